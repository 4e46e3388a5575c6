import { describe, expect, it } from 'vitest';
import { buildReport, compareModels, escapeHtml, mergeResults, renderHtml, renderMarkdown, type ModelResults, type ResultsFile } from './index.js';
import { demo, file, model, outcomes, teacher } from './spec-results.js';

function withDiagnostics(results: ResultsFile, name: string, diagnostics: ModelResults['diagnostics']): ResultsFile {
  return { ...results, models: { ...results.models, [name]: { ...results.models[name]!, diagnostics } } };
}

describe('report document model', () => {
  it('renders one document to Markdown and HTML: every table, heading and verdict in both', () => {
    const results = demo();
    const doc = buildReport(results);
    const md = renderMarkdown(results);
    const html = renderHtml(results);
    for (const block of doc.blocks) {
      if (block.kind === 'heading') {
        expect(md).toContain(`${'#'.repeat(block.level)} ${block.text}`);
        expect(html).toContain(`<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`);
      }
      if (block.kind === 'table') {
        expect(md).toContain(`| ${block.header.join(' | ')} |`);
        expect(html).toContain(`<tr>${block.header.map((h, i) => `<th${i < block.leftColumns ? ' class="left"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr>`);
        for (const row of block.rows) expect(html).toContain(escapeHtml(row[row.length - 1]!));
      }
    }
    // No Markdown syntax leaks into the HTML: it was never parsed back.
    expect(html).not.toMatch(/\*\*|\n\| /);
  });

  it('takes every state from data: a passed check whose message looks like a warning stays passed', () => {
    const results = withDiagnostics(demo(), 'baseline', [
      { id: 'vanishing-gradients', status: 'passed', severity: 'info', message: '**Flagged** is only a word here', evidence: {} },
      { id: 'black-box-beats-white-box', status: 'flagged', severity: 'warning', message: 'square beats pgd', evidence: {} },
      { id: 'restart-changes-result', status: 'not-run', severity: 'info', message: 'no re-runs', evidence: {} },
    ]);
    const html = renderHtml(results);
    expect(html).toMatch(/<li class="passed" data-status="passed"><span class="status">Passed<\/span> \(vanishing-gradients\): \*\*Flagged\*\* is only a word here/);
    expect(html).toMatch(/<li class="flagged" data-status="flagged"><span class="status">Flagged<\/span> \(black-box-beats-white-box\)/);
    expect(html).toMatch(/<li class="not-run" data-status="not-run">/);
    // Markdown lists flagged first.
    const md = renderMarkdown(results);
    expect(md.indexOf('(black-box-beats-white-box)')).toBeLessThan(md.indexOf('(vanishing-gradients)'));
  });

  it('flags a teacher weaker than its students before any student\'s number, and shows each student\'s gap', () => {
    const md = renderMarkdown(demo());
    const flag = md.indexOf('- **Flagged** (teacher-worth-distilling): teacher is less robust than its own students: ard 26.0 % vs 7.0 %');
    expect(flag).toBeGreaterThan(0);
    expect(flag).toBeLessThan(md.indexOf('## Models'));
    expect(md).toMatch(/\| teacher \(teacher of ard, crdnd\) \| trades \| — \|/);
    // Student − teacher, clean and robust, with paired intervals.
    expect(md).toMatch(/\| ard \| teacher \| \+9\.0 \[[-\d.+]+, [-\d.+]+\] \| \+19\.0 \[\+\d+\.\d, \+\d+\.\d\] \|/);
  });

  it('says when a teacher was not evaluated, and when it is degenerate', () => {
    const { teacher: _t, ...rest } = demo().models;
    expect(renderMarkdown(file(rest))).toContain('- Not run (teacher-worth-distilling): teacher (teacher of ard, crdnd) was not evaluated in this run');
    const degenerate = withDiagnostics(demo(), 'teacher', [{ id: 'degenerate-model', status: 'flagged', severity: 'warning', message: 'at chance', evidence: {} }]);
    expect(renderMarkdown(degenerate)).toContain('- **Flagged** (teacher-worth-distilling): teacher is degenerate');
    const fine = file({ t: model(outcomes(60, 30, 10), { taught: ['s'] }), s: model(outcomes(50, 40, 10), { teacher: { ...teacher, name: 't' } }) });
    expect(renderMarkdown(fine)).toContain('- Passed (teacher-worth-distilling): t: clean');
  });

  it('leads with the comparisons a reader asks for and gives a sentence to act on', () => {
    const results = demo();
    const md = renderMarkdown(results);
    const section = md.slice(md.indexOf('## Comparisons'), md.indexOf('## Threat model'));
    const rows = section.split('\n').filter((l) => l.startsWith('| student vs') || l.startsWith('| distillation'));
    // Student vs teacher first, then vs the baseline, then the methods against each other; teacher vs baseline is in results.json only.
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| student vs its teacher', '| student vs its teacher', '| student vs its teacher', '| student vs its teacher', '| student vs baseline', '| student vs baseline', '| student vs baseline', '| student vs baseline', '| distillation methods', '| distillation methods']);
    expect(section).not.toContain('| other |');
    const pair = compareModels(results).pairs.find((p) => p.first === 'ard' && p.second === 'crdnd' && p.measure === 'linf:0.3')!;
    expect(section).toContain(`| distillation methods | ard | crdnd | L∞ ε = 0.3 | 26.0 | 20.0 | +6.0 [${(pair.interval![0] * 100).toFixed(1)}, +${(pair.interval![1] * 100).toFixed(1)}] | 10 / 4 | 0.180 |`);
    expect(section).toContain(`To separate 26.0 % from 20.0 % you need about ${pair.examplesNeeded} test examples at the same discordance (this run has 100).`);
    expect(section).toContain('ard vs crdnd, L∞ ε = 0.3: not separated here');
  });

  it('draws the clean vs robust trade-off with interval bars, teachers as squares', () => {
    const html = renderHtml(demo());
    const svg = html.slice(html.indexOf('<svg class="chart tradeoff"'), html.indexOf('</svg>', html.indexOf('<svg class="chart tradeoff"')));
    expect(svg.match(/<rect class="teacher"/g)).toHaveLength(1);
    expect(svg.match(/<circle class="student"/g)).toHaveLength(3);
    expect(svg).not.toContain('<line class="interval"'); // the fixture records no intervals
    const withIntervals = demo();
    const ard = withIntervals.models.ard!;
    const tm = ard.threatModels['linf:0.3']!;
    const bars = renderHtml({ ...withIntervals, models: { ...withIntervals.models, ard: { ...ard, cleanAccuracyInterval: [0.8, 0.95], threatModels: { 'linf:0.3': { ...tm, robustAccuracyInterval: [0.18, 0.35] } } } } });
    expect(bars.match(/<line class="interval"/g)).toHaveLength(2);
    expect(svg).toContain('<title>teacher (teacher): clean 86.0 %, robust 7.0 %</title>');
  });
});

describe('report of merged seeds', () => {
  it('reads teachers against their students over seeds: flagged when weaker in every seed, gaps as mean ± sd', () => {
    const merged = mergeResults([{ ...demo(), seed: 1 }, { ...demo(), seed: 2 }]);
    const md = renderMarkdown(merged);
    expect(md).toContain('- **Flagged** (teacher-worth-distilling): teacher is less robust than its own students in every seed: ard by +19.0 points on average under L∞ ε = 0.3 (McNemar p < 0.05 in each of 2 seeds)');
    expect(md).toMatch(/mean ± sd over seeds, each seed paired example by example/);
    expect(md).toContain('| ard | teacher | +9.0 ± 0.0 | +19.0 ± 0.0 |');
    expect(md).toContain('### Across seeds');
  });
});
