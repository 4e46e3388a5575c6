import { describe, expect, it } from 'vitest';
import {
  buildLeaderboard,
  mergeResults,
  parseResults,
  referenceComparisons,
  renderLeaderboardHtml,
  renderLeaderboardMarkdown,
  type ModelResults,
  type ResultsFile,
} from './index.js';
import { file, model, outcomes, teacher } from './spec-results.js';

/**
 * Hand-made runs of four models on 20 examples (L∞ 0.3): the teacher, and the students a
 * (distilled, the reference), b (distilled) and c (no teacher). Robust counts per seed:
 * teacher 12, 12, 12; a 6, 8, 7; b 10, 9, 11; c 2, 3, 1. Clean counts: robust + 8 for every model.
 */
const ROBUST = { teacher: [12, 12, 12], a: [6, 8, 7], b: [10, 9, 11], c: [2, 3, 1] } as const;
const N = 20;

const config = (reference?: string) => ({
  name: 'lb-spec',
  seeds: [1, 2, 3],
  students: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
  evaluation: { attacks: [{ as: 'pgd' }], ...(reference ? { leaderboard: { reference } } : {}) },
});

function seedRun(seed: number, index: number, reference?: string): ResultsFile {
  const m = (name: keyof typeof ROBUST, extra: Partial<ModelResults>) => {
    const robust = ROBUST[name][index]!;
    return model(outcomes(robust, 8, N - robust - 8), { trainingSeconds: 10 * (index + 1), ...extra });
  };
  return {
    ...file(
      {
        teacher: m('teacher', { method: 'trades', taught: ['a', 'b'] }),
        a: m('a', { method: 'ard', teacher }),
        b: m('b', { method: 'rslad', teacher }),
        c: m('c', { method: 'pgd-at' }),
      },
      seed,
    ),
    config: { ...config(reference), seeds: [seed] },
  };
}

const merged = (reference?: string) => mergeResults([0, 1, 2].map((i) => seedRun(i + 1, i, reference)));

/** The rows of the table under `## heading` in leaderboard.md. */
function markdownRows(md: string, heading: string): string[][] {
  const section = md.split(`## ${heading}\n`)[1]!.split('\n## ')[0]!;
  return section.split('\n').filter((l) => l.startsWith('| ')).slice(2).map((l) => l.slice(2, -2).split(' | '));
}

/** The rows of the first table after `<h2>heading</h2>` in leaderboard.html (text unescaped). */
function htmlRows(html: string, heading: string): string[][] {
  const table = html.split(`<h2>${heading}</h2>`)[1]!.split('</table>')[0]!;
  const body = table.split('<tbody>')[1]!;
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return body.split('</tr>').filter((r) => r.includes('<td')).map((r) => [...r.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => unescape(c[1]!)));
}

describe('leaderboard', () => {
  it('ranks the students by mean robust accuracy, the teacher apart, with mean ± sd over seeds and the t interval', () => {
    const results = merged('a');
    expect(() => parseResults(JSON.parse(JSON.stringify(results)), 'merged')).not.toThrow();
    const md = renderLeaderboardMarkdown(results);
    const ranking = markdownRows(md, 'Ranking');
    // b 50 %, a 35 %, c 10 %: the teacher (60 %) would come first if it were ranked.
    expect(ranking.map((r) => r[1])).toEqual(['b', 'a', 'c']);
    expect(markdownRows(md, 'Teachers').map((r) => r[1])).toEqual(['teacher']);
    // b: robust 10, 9, 11 of 20 → 50.0 ± 5.0; t interval 0.5 ± t(0.975, 2) · 0.05/√3, t = 4.302653.
    const half = (4.302653 * 0.05) / Math.sqrt(3);
    expect(ranking[0]![4]).toBe(`50.0 ± 5.0 [${((0.5 - half) * 100).toFixed(1)}, ${((0.5 + half) * 100).toFixed(1)}]`);
    expect(ranking[0]![4]).toBe('50.0 ± 5.0 [37.6, 62.4]');
    // Clean: 18, 17, 19 of 20 → 90.0 ± 5.0.
    expect(ranking[0]![3]).toMatch(/^90\.0 ± 5\.0 \[/);
    // Training time 10, 20, 30 s → 20.0 ± 10.0.
    expect(ranking[0]![5]).toBe('20.0 ± 10.0');
    expect(ranking[0]![6]).toBe('not checked');
    // The model card lists each seed's value, recomputed from the per-example outcomes kept per seed.
    expect(md).toContain('**Robust accuracy, L∞ ε = 0.3 (%)**: 50.0 ± 5.0; per seed 1: 50.0, 2: 45.0, 3: 55.0');
    expect(md).toContain('### teacher (teacher)');
  });

  it('lists a student that taught another (as MTARD\'s clean teacher) with the teachers, not among the ranked learners', () => {
    const run = seedRun(1, 0);
    const c = run.models.c!;
    const results: ResultsFile = { ...run, models: { ...run.models, c: { ...c, taught: ['b'] } } };
    const md = renderLeaderboardMarkdown(results);
    expect(markdownRows(md, 'Teachers').map((r) => r[1])).toEqual(['teacher', 'c']);
    expect(markdownRows(md, 'Ranking').map((r) => r[1])).toEqual(['b', 'a']);
    // The same when c teaches b in a second role only (b's primary teacher stays the run's).
    const roles: ResultsFile = { ...run, models: { ...run.models, b: { ...run.models.b!, teachers: { robust: teacher, clean: { name: 'c', source: 'trained', method: 'pgd-at' } } } } };
    const md2 = renderLeaderboardMarkdown(roles);
    expect(markdownRows(md2, 'Teachers').map((r) => r[1])).toEqual(['teacher', 'c']);
    expect(markdownRows(md2, 'Ranking').map((r) => r[1])).toEqual(['b', 'a']);
    // b's card names the teacher of each role.
    expect(md2).toContain('**Teachers**: robust: teacher (trades); clean: c (pgd-at)');
  });

  it('compares every method with the reference: paired t over seeds, Holm over the leaderboard\'s comparisons', () => {
    const results = merged('a');
    const comparisons = referenceComparisons(results, 'a', ['b', 'a', 'c'], ['linf:0.3']);
    // The reference has no comparison with itself.
    expect(comparisons.map((c) => c.model)).toEqual(['b', 'c']);
    // b − a per seed: (4, 1, 4)/20 → mean 0.15, sd √3/20, t = 3; c − a: (−4, −5, −6)/20 → mean −0.25, sd 1/20, t = −5√3.
    const b = comparisons.find((c) => c.model === 'b')!;
    const c = comparisons.find((x) => x.model === 'c')!;
    expect(b.difference).toBeCloseTo(0.15, 12);
    expect(c.difference).toBeCloseTo(-0.25, 12);
    // Student's t with 2 degrees of freedom: p = 1 − t/√(2 + t²).
    const pB = 1 - 3 / Math.sqrt(11);
    const pC = 1 - (5 * Math.sqrt(3)) / Math.sqrt(2 + 75);
    expect(b.pValue).toBeCloseTo(pB, 9);
    expect(c.pValue).toBeCloseTo(pC, 9);
    // Holm over the two: the smaller doubled, the larger kept (it is above the doubled one).
    expect(c.adjustedPValue).toBeCloseTo(2 * pC, 9);
    expect(b.adjustedPValue).toBeCloseTo(pB, 9);
    // The t interval of b − a: 0.15 ± 4.302653 · 0.05 (sd √3/20 over √3 seeds).
    expect(b.interval![0]).toBeCloseTo(0.15 - 4.302653 * 0.05, 5);
    expect(b.interval![1]).toBeCloseTo(0.15 + 4.302653 * 0.05, 5);
    // c − a, though the stored pair is oriented a first (a is distilled, c is not): the interval flips with the sign.
    expect(c.interval![1]).toBeCloseTo(-0.25 + (4.302653 * 0.05) / Math.sqrt(3), 5);
    const rows = markdownRows(renderLeaderboardMarkdown(results), 'Paired comparison with the reference');
    expect(rows.map((r) => r[0])).toEqual(['b', 'c']);
    expect(rows[0]).toEqual(['b', '+15.0 [-6.5, +36.5]', (pB).toFixed(3)]);
    expect(rows[1]![2]).toBe((2 * pC).toFixed(3));
  });

  it('without a reference in the config, has no comparison column; a gap to the teacher per student that has one', () => {
    const md = renderLeaderboardMarkdown(merged());
    expect(md).toContain('No reference: the config names none');
    expect(md).not.toContain('Holm p');
    const gaps = markdownRows(md, 'Gap to the teacher');
    // Clean − teacher: b 90 − 100, a 75 − 100; robust: b 50 − 60, a 35 − 60. c has no teacher.
    expect(gaps).toEqual([
      ['b', 'teacher', '-10.0', '-10.0'],
      ['a', 'teacher', '-25.0', '-25.0'],
    ]);
  });

  it('Markdown and HTML carry the same rows, from one document', () => {
    const results = merged('a');
    const md = renderLeaderboardMarkdown(results);
    const html = renderLeaderboardHtml(results);
    for (const heading of ['Teachers', 'Ranking', 'Gap to the teacher', 'Paired comparison with the reference']) {
      expect(markdownRows(md, heading).length, heading).toBeGreaterThan(0);
      expect(htmlRows(html, heading), heading).toEqual(markdownRows(md, heading));
    }
    // The figure: inline SVG in the HTML, a pointer to it in the Markdown.
    expect(html).toMatch(/<svg class="chart tradeoff"[^]*<rect class="teacher"[^]*<circle class="student"/);
    expect(md).toContain('(1 figure in leaderboard.html)');
  });

  it('one seed: sd unavailable, the Wilson interval of the seed\'s examples, McNemar with the reference', () => {
    const single = seedRun(1, 0, 'a');
    const md = renderLeaderboardMarkdown(single);
    const ranking = markdownRows(md, 'Ranking');
    expect(ranking.map((r) => r[1])).toEqual(['b', 'a', 'c']);
    // model() records no Wilson interval, so none is shown; the sd is n/a.
    expect(ranking[0]![4]).toBe('50.0 ± n/a');
    expect(md).toContain('One seed: the sd over seeds is not available (n/a)');
    const withInterval = { ...single, models: { ...single.models, b: { ...single.models.b!, threatModels: { 'linf:0.3': { ...single.models.b!.threatModels['linf:0.3']!, robustAccuracyInterval: [0.2993, 0.7007] as const } } } } };
    expect(markdownRows(renderLeaderboardMarkdown(withInterval), 'Ranking')[0]![4]).toBe('50.0 ± n/a [29.9, 70.1]');
    // b − a: b alone keeps 4 examples a loses, none the other way → exact McNemar 2/2⁴; c − a: a alone keeps 4 → the same.
    const comparisons = referenceComparisons(single, 'a', ['b', 'a', 'c'], ['linf:0.3']);
    expect(comparisons.map((c) => [c.model, c.test, c.difference, c.pValue])).toEqual([
      ['b', 'McNemar', expect.closeTo(0.2, 12), expect.closeTo(0.125, 12)],
      ['c', 'McNemar', expect.closeTo(-0.2, 12), expect.closeTo(0.125, 12)],
    ]);
    expect(comparisons.map((c) => c.adjustedPValue)).toEqual([expect.closeTo(0.25, 12), expect.closeTo(0.25, 12)]);
  });

  it('ranks by the first threat model of the config\'s attack order, not the first recorded', () => {
    const l2 = (robust: number): ModelResults['threatModels'][string] => ({
      norm: 'l2', epsilon: 2, attacks: ['pgd-l2'], ran: ['pgd-l2'], evaluated: N, cleanAccuracy: 1, robustAccuracy: robust / N, breakers: {}, perClass: [], worstClass: null,
    });
    const attack = (threatModel: string) => ({ name: 'pgd', params: {}, threatModel }) as unknown as ModelResults['attacks'][string];
    const run = seedRun(1, 0);
    // Under L2 the order is reversed: c 15, a 10, b 5.
    const models = Object.fromEntries(
      Object.entries(run.models).map(([name, m]) => [
        name,
        { ...m, threatModels: { ...m.threatModels, 'l2:2': l2({ teacher: 1, a: 10, b: 5, c: 15 }[name]!) }, attacks: { pgd: attack('linf:0.3'), 'pgd-l2': attack('l2:2') } },
      ]),
    );
    const l2First = { ...run, models, config: { ...run.config, evaluation: { attacks: [{ as: 'pgd-l2' }, { as: 'pgd' }] } } };
    const doc = buildLeaderboard(l2First);
    const ranking = doc.blocks.filter((b) => b.kind === 'table')[1]!;
    expect(ranking.kind === 'table' && ranking.rows.map((r) => r[1])).toEqual(['c', 'a', 'b']);
    expect(ranking.kind === 'table' && ranking.header.slice(4, 6)).toEqual(['Robust L2 ε = 2 (%)', 'Robust L∞ ε = 0.3 (%)']);
  });
});
