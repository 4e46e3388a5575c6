import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, startCli, tempDir, writeConfig } from './helpers.js';
import { launchChromium, type Chromium } from './browser/chromium.js';

/**
 * `tempered explore` on a real (tiny) run, in headless Chromium: the page loads every trained
 * model with no console error and nothing from off the server, PGD at ε = 0.3 flips the baseline
 * on a digit it gets right, a drawn digit is attacked too, and the docs' screenshot is taken.
 * The screenshot goes to $TEMPERED_SCREENSHOT_DIR/explorer.png when set (docs/img to refresh the
 * docs), else beside the run.
 */
const CONFIG = {
  name: 'explore-spec',
  seed: 1,
  backend: 'wasm',
  // Enough training for a baseline that gets most digits right (the page needs one to flip), no more.
  dataset: { name: 'mnist', params: { trainSize: 500, testSize: 20 } },
  model: { name: 'mlp', params: { hiddenSizes: '64' } },
  batchSize: 32,
  teacher: { epochs: 2 },
  students: [
    { name: 'baseline', method: 'standard', params: { epochs: 2 } },
    { name: 'defensive-distillation', method: 'defensive-distillation', params: { temperature: 20, teacherEpochs: 2, epochs: 2 } },
    { name: 'pgd-at', method: 'pgd-at', params: { epochs: 2, epsilon: 0.1, stepSize: 0.04, steps: 3 } },
  ],
  evaluation: { examples: 20, workers: 0, attacks: [{ name: 'fgsm', params: { epsilon: 0.3 } }] },
};

let dir: string;
let server: ChildProcess;
let url: string;
let chromium: Chromium;

beforeAll(async () => {
  assertBuilt();
  dir = tempDir('explore');
  const run = runCli(['run', writeConfig(dir, CONFIG), '--out', join(dir, 'run'), '--quiet']);
  expect(run.status, run.stderr).toBe(0);
  server = startCli(['explore', join(dir, 'run'), '--port', '0', '--digits', '20']);
  url = await new Promise<string>((found, fail) => {
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Tempered explorer: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match) found(match[1]!);
    });
    server.once('exit', (code) => fail(new Error(`tempered explore exited with ${code} before printing its URL`)));
  });
  chromium = await launchChromium('checking tempered explore in headless Chromium');
});

afterAll(async () => {
  await chromium?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((done) => server.once('exit', done));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tempered explore', () => {
  it('serves on loopback only and refuses paths outside the run', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect((await fetch(`${url}run/models/baseline/model.json`)).status).toBe(200);
    for (const path of ['run/models/../run-state.json', 'run/models/baseline/..%2F..%2Frun-state.json', 'run/models/nope/model.json', 'run/metrics.jsonl']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(404);
    }
    // DNS rebinding: a request for another host name reaching the loopback port is refused.
    const status = await new Promise<number>((done, fail) =>
      request(`${url}run/manifest.json`, { headers: { host: 'rebound.example:80' } }, (r) => {
        r.resume();
        done(r.statusCode ?? 0);
      }).on('error', fail).end(),
    );
    expect(status).toBe(403);
  });

  it('attacks every model live in the page; PGD at ε = 0.3 flips the baseline', async () => {
    const { page, problems } = await chromium.page(url.replace(/\/$/, ''));
    await page.setViewport({ width: 1280, height: 620 });
    const settled = () => page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), { timeout: 120_000 });
    await page.goto(url);
    await settled();
    const models = await page.$$eval('.model', (els) => els.map((e) => (e as HTMLElement).dataset.model));
    expect(models).toEqual(['baseline', 'defensive-distillation', 'pgd-at', 'teacher']);

    await page.select('#attack', 'pgd');
    await page.$eval('#epsilon', (input) => {
      (input as HTMLInputElement).value = '0.3';
      input.dispatchEvent(new Event('input'));
    });
    const tensorsAfterLoad = await page.$eval('body', (b) => Number((b as HTMLElement).dataset.tensors));
    const labels = (await (await fetch(`${url}run/manifest.json`)).json()).digits.labels as number[];
    let flipped = false;
    for (let digit = 0; digit < labels.length && !flipped; digit++) {
      await page.click(`[data-digit="${digit}"]`);
      await page.waitForFunction((d) => document.body.dataset.source === `digit:${d}` && document.body.dataset.state === 'done', { timeout: 120_000 }, digit);
      const baseline = await page.$eval('.model[data-model="baseline"]', (e) => ({ ...(e as HTMLElement).dataset }));
      if (Number(baseline.clean) !== labels[digit]) continue; // attack a digit the baseline gets right
      expect(Number(baseline.adversarial), `digit ${digit}`).not.toBe(Number(baseline.clean));
      flipped = true;
    }
    expect(flipped, 'the baseline classified some digit correctly').toBe(true);

    const screenshotDir = process.env.TEMPERED_SCREENSHOT_DIR ?? dir;
    mkdirSync(screenshotDir, { recursive: true });
    const png = join(screenshotDir, 'explorer.png');
    await page.screenshot({ path: png, fullPage: true });
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');

    // A drawn digit: a stroke on the pad is attacked against each model's own prediction.
    const pad = (await page.$('#pad'))!.boundingBox();
    const box = (await pad)!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => document.body.dataset.source === 'drawn' && document.body.dataset.state === 'done', { timeout: 120_000 });
    expect(await page.$$eval('.model', (els) => els.length)).toBe(4);
    expect(await page.$eval('body', (b) => Number((b as HTMLElement).dataset.tensors)), 'tensors held after several attacks').toBe(tensorsAfterLoad);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses a directory that is not a run, in one line', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'note.txt'), 'not a run');
    const r = runCli(['explore', empty, '--port', '0']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^error: explore: .*holds no run-state\.json; expected the --out directory of `tempered run`$/);
    expect(existsSync(join(empty, 'note.txt'))).toBe(true);
  });
});
