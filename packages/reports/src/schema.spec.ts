import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tempered/core/pure';
import { RESULTS_JSON_SCHEMA, parseResults, readResults, writeResults, type AttackSummary, type ResultsFile } from './node.js';

const histogram = { quantity: 'loss', norm: 'l2', temperature: 1, binEdges: [-3, -2], counts: [4], zeros: 0, underflow: 0, overflow: 0, count: 4, mean: 0.01, median: 0.01 } as const;
const pgd: AttackSummary = {
  name: 'pgd', params: { epsilon: 0.3 }, mode: 'untargeted', norm: 'linf', kind: 'bounded', epsilon: 0.3, threatModel: 'linf:0.3',
  evaluated: 4, pairs: 4, successRate: 0.5, robustAccuracy: 0.5, meanL0: 16, medianL0: 16, meanL2: 1.2, medianL2: 1.2, meanLinf: 0.3, medianLinf: 0.3, meanIterations: 10,
};
const valid: ResultsFile = {
  schemaVersion: 2, tempered: '0.1.0', createdAt: '2026-12-05T02:00:00.000Z', dataset: { name: 'mnist', split: 'test', size: 10000 },
  evaluatedExamples: 4, backend: { name: 'cpu', workers: 0 }, seed: 1,
  models: {
    ard: {
      method: 'ard', cleanAccuracy: 1, confidence: 0.9, attacks: { pgd },
      threatModels: {
        'linf:0.3': {
          norm: 'linf', epsilon: 0.3, attacks: ['pgd'], ran: ['pgd'], evaluated: 4, cleanAccuracy: 1, robustAccuracy: 0.5,
          breakers: { pgd: 2 }, perClass: [{ label: 0, examples: 4, cleanAccuracy: 1, robustAccuracy: 0.5 }], worstClass: { label: 0, robustAccuracy: 0.5 },
        },
      },
      gradientHistogram: { ...histogram, quantity: 'probability', norm: 'l1' }, lossGradientHistogram: histogram,
      diagnostics: [{ id: 'vanishing-gradients', status: 'passed', severity: 'info', message: 'ok', evidence: { share: 0 } }],
      training: { student: [{ epoch: 1, loss: 0.5, accuracy: 0.9, robustLoss: 0.7 }] },
      examples: {},
    },
  },
};
/** `valid` with `models.ard.attacks.pgd` changed by `change`. */
const withPgd = (change: Record<string, unknown>): unknown => ({ ...valid, models: { ard: { ...valid.models['ard']!, attacks: { pgd: { ...pgd, ...change } } } } });

describe('results.json has one schema', () => {
  it('accepts a well-formed file, NaN written as null included', () => {
    expect(parseResults(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
    expect(() => parseResults(JSON.parse(JSON.stringify(withPgd({ meanL2: Number.NaN }))))).not.toThrow();
    const diverged = { ...valid, models: { ard: { ...valid.models['ard']!, training: { student: [{ epoch: 1, loss: Number.NaN, accuracy: 0.1 }] } } } };
    expect(() => parseResults(JSON.parse(JSON.stringify(diverged)))).not.toThrow();
    // The learning rate of the epoch and of each of its steps, as the training curves carry them.
    const scheduled = { ...valid, models: { ard: { ...valid.models['ard']!, training: { train: [{ epoch: 0, loss: 0.4, learningRate: 0.05, learningRates: [0.1, 0.05] }] } } } };
    expect(parseResults(JSON.parse(JSON.stringify(scheduled)))).toEqual(scheduled);
    const badRates = { ...valid, models: { ard: { ...valid.models['ard']!, training: { train: [{ epoch: 0, loss: 0.4, learningRates: ['fast'] }] } } } };
    expect(() => parseResults(JSON.parse(JSON.stringify(badRates)))).toThrow(/learningRates/);
  });

  it('refuses a bad nested field in one line naming it', () => {
    const cases: Array<[unknown, string]> = [
      [withPgd({ medianL2: 'far' }), 'results.json: models.ard.attacks.pgd.medianL2: expected number or null, got "far"'],
      [withPgd({ mode: 'sideways' }), 'results.json: models.ard.attacks.pgd.mode'],
      [withPgd({ pairs: undefined }), 'results.json: models.ard.attacks.pgd.pairs: missing'],
      [withPgd({ successRateInterval: [0.1] }), 'results.json: models.ard.attacks.pgd.successRateInterval: expected at least 2 items'],
      [{ ...valid, schemaVersion: 1 }, 'results.json: schemaVersion: expected 2, got 1'],
      [{ ...valid, createdAt: 'yesterday' }, 'results.json: createdAt'],
      [{ ...valid, models: { ard: { ...valid.models['ard']!, cleanAccuracy: 1.5 } } }, 'results.json: models.ard.cleanAccuracy: expected ≤ 1, got 1.5'],
    ];
    for (const [file, message] of cases) {
      let error: unknown;
      try {
        parseResults(JSON.parse(JSON.stringify(file)));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('bounds every rate to [0, 1] and every rate to its interval, on read and on write', () => {
    const tmOf = (change: Record<string, unknown>): unknown => {
      const tm = valid.models['ard']!.threatModels['linf:0.3']!;
      return { ...valid, models: { ard: { ...valid.models['ard']!, threatModels: { 'linf:0.3': { ...tm, ...change } } } } };
    };
    const cases: Array<[unknown, string]> = [
      // The probe's 7.5 rendered as "750.0 %".
      [withPgd({ robustAccuracy: 7.5 }), 'models.ard.attacks.pgd.robustAccuracy: expected ≤ 1, got 7.5'],
      [withPgd({ successRate: -0.1 }), 'models.ard.attacks.pgd.successRate: expected ≥ 0, got -0.1'],
      [tmOf({ robustAccuracy: 1.2 }), "models.ard.threatModels.linf:0.3.robustAccuracy: expected ≤ 1, got 1.2"],
      [tmOf({ worstClass: { label: 0, robustAccuracy: 2 } }), 'worstClass.robustAccuracy: expected ≤ 1, got 2'],
      [{ ...valid, models: { ard: { ...valid.models['ard']!, confidence: 1.01 } } }, 'models.ard.confidence: expected ≤ 1, got 1.01'],
      [{ ...valid, models: { ard: { ...valid.models['ard']!, agreement: 3 } } }, 'models.ard.agreement: expected ≤ 1, got 3'],
      [{ ...valid, models: { ard: { ...valid.models['ard']!, training: { student: [{ epoch: 1, loss: 0.5, accuracy: 57.7 }] } } } }, 'accuracy: expected ≤ 1, got 57.7'],
      [withPgd({ robustAccuracyInterval: [0.1, 0.3] }), 'models.ard.attacks.pgd.robustAccuracy: 0.5 lies outside its interval [0.1, 0.3]'],
      [withPgd({ successRateInterval: [0.6, 0.4] }), 'models.ard.attacks.pgd.successRateInterval: lower bound 0.6 is above upper bound 0.4'],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'tempered-bounds-'));
    try {
      for (const [file, message] of cases) {
        expect(() => parseResults(JSON.parse(JSON.stringify(file))), message).toThrow(message);
        expect(() => writeResults(dir, file as ResultsFile), message).toThrow(message);
        expect(existsSync(join(dir, 'results.json'))).toBe(false);
      }
      // A rate at its interval's ends is in it.
      expect(() => parseResults(JSON.parse(JSON.stringify(withPgd({ robustAccuracyInterval: [0.5, 0.5] }))))).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is checked on write (no file left) and on read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-schema-'));
    try {
      expect(() => writeResults(dir, withPgd({ medianL2: 'far' }) as ResultsFile)).toThrow(/results\.json: models\.ard\.attacks\.pgd\.medianL2: expected number or null/);
      expect(existsSync(join(dir, 'results.json'))).toBe(false);
      writeResults(dir, valid);
      expect(readResults(dir)).toEqual(valid);
      writeFileSync(join(dir, 'results.json'), JSON.stringify(withPgd({ medianL2: 'far' })));
      expect(() => readResults(dir)).toThrow(/results\.json: models\.ard\.attacks\.pgd\.medianL2: expected number or null, got "far"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships results.schema.json equal to the definition', () => {
    const shipped: unknown = JSON.parse(readFileSync(new URL('../dist/results.schema.json', import.meta.url), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(RESULTS_JSON_SCHEMA)));
    expect(shipped).toMatchObject({ $id: 'https://tempered.dev/schemas/results-2.json', required: expect.arrayContaining(['schemaVersion', 'models']) });
  });
});
