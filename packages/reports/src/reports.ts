import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@tempered/core/pure';
import { writeFileAtomic, writeJsonAtomic } from '@tempered/core/fs';
import { mergeResults } from './merge.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import type { ResultsFile } from './schema.js';
import { parseResults } from './parse-results.js';

export const RESULTS_FILE = 'results.json';
export const REPORT_MARKDOWN = 'report.md';
export const REPORT_HTML = 'report.html';

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

/** Rebuilds `dir/report.md` and `dir/report.html` from `dir/results.json` alone. */
export function renderReports(dir: string): { markdown: string; html: string } {
  const results = readResults(dir);
  const markdown = join(dir, REPORT_MARKDOWN);
  const html = join(dir, REPORT_HTML);
  writeFileAtomic(markdown, renderMarkdown(results));
  writeFileAtomic(html, renderHtml(results));
  return { markdown, html };
}

/** Merges several runs' results.json (seeds → mean ± std; models → union) into `outDir` and renders it. */
export function mergeReports(dirs: readonly string[], outDir: string): { results: string; markdown: string; html: string } {
  const merged = mergeResults(dirs.map(readResults), dirs.map((d) => join(d, RESULTS_FILE)));
  writeResults(outDir, merged);
  return { results: join(outDir, RESULTS_FILE), ...renderReports(outDir) };
}
