import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@tempered/core/pure';
import { writeFileAtomic, writeJsonAtomic } from '@tempered/core/fs';
import { mergeResults } from './merge.js';
import { renderHtml, renderLeaderboardHtml } from './render-html.js';
import { renderLeaderboardMarkdown, renderMarkdown } from './render-markdown.js';
import type { ResultsFile } from './schema.js';
import { parseResults } from './parse-results.js';

export const RESULTS_FILE = 'results.json';
export const REPORT_MARKDOWN = 'report.md';
export const REPORT_HTML = 'report.html';
export const LEADERBOARD_MARKDOWN = 'leaderboard.md';
export const LEADERBOARD_HTML = 'leaderboard.html';

/** Reads and checks `dir/results.json`. */
export function readResults(dir: string): ResultsFile {
  const path = join(dir, RESULTS_FILE);
  if (!existsSync(path)) throw new ConfigError(path, 'results.json not found; run an evaluation first');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(path, 'not valid JSON');
  }
  return parseResults(parsed, path);
}

/**
 * Writes `dir/results.json` atomically, after checking what will be on disk (NaN → null, undefined
 * dropped) against the schema: a run never leaves a file its own reader would refuse.
 */
export function writeResults(dir: string, results: ResultsFile): void {
  const path = join(dir, RESULTS_FILE);
  parseResults(JSON.parse(JSON.stringify(results)), path);
  writeJsonAtomic(path, results);
}

/** Rebuilds `dir/report.md`, `dir/report.html` and the leaderboard (`leaderboard.md`, `leaderboard.html`) from `dir/results.json` alone. */
export function renderReports(dir: string): { markdown: string; html: string; leaderboardMarkdown: string; leaderboardHtml: string } {
  const results = readResults(dir);
  const written = { markdown: join(dir, REPORT_MARKDOWN), html: join(dir, REPORT_HTML), leaderboardMarkdown: join(dir, LEADERBOARD_MARKDOWN), leaderboardHtml: join(dir, LEADERBOARD_HTML) };
  writeFileAtomic(written.markdown, renderMarkdown(results));
  writeFileAtomic(written.html, renderHtml(results));
  writeFileAtomic(written.leaderboardMarkdown, renderLeaderboardMarkdown(results));
  writeFileAtomic(written.leaderboardHtml, renderLeaderboardHtml(results));
  return written;
}

/** Merges several runs' results.json (seeds → mean ± std; models → union) into `outDir` and renders it. */
export function mergeReports(dirs: readonly string[], outDir: string): { results: string } & ReturnType<typeof renderReports> {
  const merged = mergeResults(dirs.map(readResults), dirs.map((d) => join(d, RESULTS_FILE)));
  writeResults(outDir, merged);
  return { results: join(outDir, RESULTS_FILE), ...renderReports(outDir) };
}
