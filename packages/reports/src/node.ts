/**
 * @tempered/reports/node: the Node-only half of reports, reading and writing results.json,
 * report.md, report.html, leaderboard.md and leaderboard.html (atomic writes, merging results files on disk). It re-exports the
 * main entry too, so a Node program can import everything from here.
 * @packageDocumentation
 */
export * from './index.js';
export { readResults, writeResults, renderReports, mergeReports, RESULTS_FILE, REPORT_MARKDOWN, REPORT_HTML, LEADERBOARD_MARKDOWN, LEADERBOARD_HTML } from './reports.js';
