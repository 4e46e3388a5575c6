import { describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from './helpers.js';

/**
 * `tempered bench` runs end to end and its --json contract holds. Speed is measured by the
 * benchmark itself, never asserted in a test: this only checks the figures exist and are sane.
 */
describe('tempered bench --json', () => {
  it('ends with one JSON object holding the documented figures', () => {
    assertBuilt();
    const r = runCli(['bench', '--backend', 'wasm', '--batch', '16', '--iterations', '1', '--rounds', '1', '--skip', 'workers', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const figures = JSON.parse(last) as Record<string, unknown>;
    expect(figures).toMatchObject({ backend: 'wasm', batch: 16, winograd: true });
    for (const key of ['trainStepMs', 'forwardMs', 'inputGradMs', 'pgd40ImagesPerSec']) {
      expect(typeof figures[key], key).toBe('number');
      expect(figures[key] as number, key).toBeGreaterThan(0);
    }
    const iterations = figures.attackIterations as { batch: number } & Record<string, { wallMs: number; cpuMs: number }>;
    expect(iterations.batch).toBe(16);
    for (const part of ['apgd', 'fab', 'square']) {
      for (const ms of [iterations[part]!.wallMs, iterations[part]!.cpuMs]) expect(Number.isFinite(ms) && ms >= 0, part).toBe(true);
    }
    // Human-readable lines go to stderr with --json, so stdout stays machine-readable.
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Papernot MNIST CNN, batch 16 \(best of 1 medians of 1\): train step/);
  }, 300_000);

  it('times the XNNPACK convolution paths with --no-winograd', () => {
    const r = runCli(['bench', '--batch', '8', '--iterations', '1', '--rounds', '1', '--skip', 'attacks,pgd,autoattack,workers', '--no-winograd', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const figures = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(figures).toMatchObject({ backend: 'wasm', winograd: false });
    expect(figures.trainStepMs as number).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/Winograd off/);
  }, 300_000);

  it('times zoo models with --zoo, against the XNNPACK paths on wasm', () => {
    const r = runCli(['bench', '--iterations', '1', '--rounds', '1', '--skip', 'model,attacks,pgd,autoattack,workers', '--zoo', 'papernot-mnist', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const figures = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { zoo: Record<string, { trainStepMs: number; withoutWinogradMs: number }> };
    expect(Object.keys(figures.zoo)).toEqual(['papernot-mnist']);
    expect(figures.zoo['papernot-mnist']!.trainStepMs).toBeGreaterThan(0);
    expect(figures.zoo['papernot-mnist']!.withoutWinogradMs).toBeGreaterThan(0);
    const refused = runCli(['bench', '--zoo', 'vgg16']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr.trim()).toBe('error: --zoo: unknown model "vgg16"; expected papernot-mnist, papernot-cifar, resnet-small, mobilenet-v2-small');
  }, 300_000);

  it('refuses an unknown backend or part in one line', () => {
    const r = runCli(['bench', '--skip', 'gpu']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe('error: --skip: unknown part "gpu"; expected model, attacks, pgd, autoattack or workers');
  });
});
