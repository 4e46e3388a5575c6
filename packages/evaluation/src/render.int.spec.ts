import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { ensureAptPackage } from '../../core/src/testing.js';
import { encodePng, mergeReports, mergeResults, renderHtml, renderMarkdown, renderReports, writeResults, escapeHtml, type ResultsFile } from '@tempered/reports/node';
import { evaluate, register } from './node.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';
// @ts-expect-error plain ESM fixture without types
import { register as registerFakeAttacks } from '../fixtures/fake-attacks.mjs';

let base: ResultsFile;

beforeAll(async () => {
  const c = container.createChildContainer();
  register(c);
  registerFakeAttacks(c);
  const model = fixtureModel('student<script>');
  try {
    base = await evaluate({
      container: c, test: fixtureDataset(12), examples: 12, batchSize: 12, seed: 1,
      attacks: [{ name: 'sign-step', params: { epsilon: 0.3 } }, { name: 'seeded-pgd', params: { epsilon: 0.3, steps: 4 } }],
      models: [{ name: 'student<script>', method: 'ard', model, training: { student: [{ epoch: 1, loss: 1.2, accuracy: 0.5, learningRate: 0.1, learningRates: [0.1, 0.1] }, { epoch: 2, loss: 0.7, accuracy: 0.8, learningRate: 0.01, learningRates: [0.05, 0.01] }] } }],
      diagnostics: { sweep: { attack: 'seeded-pgd', epsilons: [0.1, 0.3, 1], examples: 12 }, marginAttack: false },
    });
  } finally {
    model.dispose();
  }
});

function withSeed(results: ResultsFile, seed: number, shift: number): ResultsFile {
  const [name, m] = Object.entries(results.models)[0]!;
  return { ...results, seed, models: { [name]: { ...m, cleanAccuracy: m.cleanAccuracy - shift, attacks: Object.fromEntries(Object.entries(m.attacks).map(([k, a]) => [k, { ...a, robustAccuracy: a.robustAccuracy! - shift }])) } } };
}

describe('reports', () => {
  it('PNG encoder writes a valid signature, IHDR and inflatable scanlines', () => {
    const png = Buffer.from(encodePng(2, 1, Uint8Array.from([255, 0, 0, 0, 0, 255])));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const idat = png.indexOf('IDAT');
    const length = png.readUInt32BE(idat - 4);
    expect([...inflateSync(png.subarray(idat + 4, idat + 4 + length))]).toEqual([0, 255, 0, 0, 0, 0, 255]);
  });

  it('merges seeds into mean ± std, and refuses the same seed twice', () => {
    const merged = mergeResults([withSeed(base, 1, 0), withSeed(base, 2, 0.1)]);
    const m = Object.values(merged.models)[0]!;
    expect(merged.seeds).toEqual([1, 2]);
    expect(m.cleanAccuracy).toBeCloseTo(Object.values(base.models)[0]!.cleanAccuracy - 0.05);
    expect(m.std!.cleanAccuracy).toBeCloseTo(Math.sqrt(0.005));
    expect(renderMarkdown(merged)).toMatch(/\d+\.\d ± 7\.1/);
    // Two runs of one seed are not seeds of one experiment (issue 21: they faked "± 0.0").
    const other = { ...base, models: { other: Object.values(base.models)[0]! } };
    expect(() => mergeResults([base, other])).toThrow(/seed \d+ is already in results\[0\]; each seed is merged once/);
  });

  it('report.md has the comparison table and the diagnostics; report.html escapes text', () => {
    const md = renderMarkdown(base);
    expect(md).toContain('| Model | Method | Teacher | Clean acc. (%) | Robust acc. L∞ ε = 0.3 (%) |');
    expect(md).toContain('## Threat model L∞ ε = 0.3');
    expect(md).toContain('## Diagnostics');
    expect(escapeHtml('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
    // Every step's learning rate is a series of the training chart.
    expect(renderHtml(base)).toContain('student learning rate');
  });

  it('renders report.html that headless Chromium draws: SVG charts with paths and decoded images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-report-'));
    try {
      writeResults(dir, base);
      const { html } = renderReports(dir);
      const page = readFileSync(html, 'utf8');
      expect(page).not.toMatch(/<script>alert|student<script>/);
      expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      const chromium = await ensureChromium();
      // Image decoding runs off the page's virtual clock, so on a loaded machine the DOM can be dumped
      // while the decode promises are still pending. Pending says nothing about the images: dump again
      // (fresh profile) up to three times. A "failed" verdict is final.
      let dom = '';
      for (let attempt = 0; attempt < 3; attempt++) {
        const profile = join(dir, `profile-${attempt}`);
        mkdirSync(profile);
        dom = execFileSync(chromium, [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=10000', '--dump-dom', `file://${html}`,
        ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
        if (!/data-images-loaded="pending"/.test(dom)) break;
      }
      expect(dom).toMatch(/data-images-loaded="all"/);
      const decoded = Number(/data-images-decoded="(\d+)"/.exec(dom)?.[1]);
      expect(decoded).toBeGreaterThanOrEqual(3);
      expect((dom.match(/<svg class="chart"/g) ?? []).length).toBeGreaterThanOrEqual(3);
      expect(dom).toMatch(/<path class="series" d="M[\d.]+,[\d.]+ L/);
      expect(dom).toMatch(/<path class="bar"/);
      expect(dom).toMatch(/<circle /);
      // The clean vs robust trade-off: one point per model with its two interval bars.
      expect(dom).toMatch(/<svg class="chart tradeoff"[^]*<line class="interval"[^]*<line class="interval"[^]*<circle class="student"/);
      // mergeReports writes a merged results.json and renders both reports.
      const second = join(dir, 'second');
      writeResults(second, withSeed(base, 2, 0.1));
      writeResults(join(dir, 'first'), base);
      const out = mergeReports([join(dir, 'first'), second], join(dir, 'merged'));
      expect(readFileSync(out.markdown, 'utf8')).toContain('seeds 1, 2 (mean ± std)');
      mkdirSync(join(dir, 'bad'));
      writeFileSync(join(dir, 'bad', 'results.json'), '{"schemaVersion": 1, "models": {}}');
      expect(() => renderReports(join(dir, 'bad'))).toThrow(/schemaVersion: expected 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

const chromiumPath = () => spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();

async function ensureChromium(): Promise<string> {
  await ensureAptPackage('chromium', () => chromiumPath() !== '', 'checking report.html in headless Chromium');
  return chromiumPath();
}
