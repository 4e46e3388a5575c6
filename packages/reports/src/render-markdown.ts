import { buildReport, type Block, type ReportDocument, type Span, type Verdict } from './report-model.js';
import { buildLeaderboard } from './leaderboard.js';
import type { ResultsFile } from './schema.js';


/** Escapes what Markdown would read as table syntax or a line break inside a cell or an inline run. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function spans(items: readonly Span[]): string {
  return items.map((s) => (typeof s === 'string' ? cell(s) : 'strong' in s ? `**${cell(s.strong)}**` : `\`${cell(s.code)}\``)).join('');
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, leftColumns: number): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map((_, i) => (i < leftColumns ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

const STATUS_LABEL = { flagged: '**Flagged**', passed: 'Passed', 'not-run': 'Not run' } as const;

function verdict(v: Verdict): string {
  return `- ${STATUS_LABEL[v.status]} (${cell(v.id)}): ${cell(v.message)}`;
}

function block(b: Block, htmlFile: string): string[] {
  switch (b.kind) {
    case 'heading':
      return [`${'#'.repeat(b.level)} ${cell(b.text)}`, ''];
    case 'paragraph':
      return [spans(b.spans), ''];
    case 'list':
      return [...b.items.map((item) => `- ${spans(item)}`), ''];
    case 'table':
      return [...table(b.header, b.rows, b.leftColumns), ''];
    case 'verdicts':
      return [...b.items.map(verdict), ''];
    case 'figures':
      // Figures are drawn in the HTML twin; their numbers are in this file's tables.
      return [b.figures.length === 0 ? b.empty : `(${b.figures.length} figure${b.figures.length === 1 ? '' : 's'} in ${htmlFile})`, ''];
  }
}

/** A report document as Markdown. */
export function documentToMarkdown(doc: ReportDocument): string {
  return [`# ${cell(doc.title)}`, '', ...doc.blocks.flatMap((b) => block(b, doc.htmlFile ?? 'report.html'))].join('\n');
}

/** report.md: the report document of `results` (see buildReport) in Markdown. */
export function renderMarkdown(results: ResultsFile): string {
  return documentToMarkdown(buildReport(results));
}

/** leaderboard.md: the leaderboard document of `results` (see buildLeaderboard) in Markdown. */
export function renderLeaderboardMarkdown(results: ResultsFile): string {
  return documentToMarkdown(buildLeaderboard(results));
}
