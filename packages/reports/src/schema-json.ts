import { ConfigError } from '@tempered/core';
import { RESULTS_SCHEMA_VERSION, type ResultsFile } from './schema.js';

const nullableNumber = { type: ['number', 'null'] } as const;
const interval = { type: ['array', 'null'], items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 } as const;
const classAccuracy = {
  type: 'object',
  required: ['label', 'examples', 'cleanAccuracy', 'robustAccuracy'],
  properties: { label: { type: 'integer' }, examples: { type: 'integer', minimum: 0 }, cleanAccuracy: nullableNumber, robustAccuracy: nullableNumber, robustAccuracyInterval: interval },
} as const;
const rerun = {
  type: 'object',
  required: ['attack', 'change', 'evaluated', 'referenceRobustAccuracy', 'robustAccuracy', 'newlyBroken'],
  properties: {
    attack: { type: 'string' }, change: { type: 'string' }, evaluated: { type: 'integer' },
    referenceRobustAccuracy: nullableNumber, robustAccuracy: nullableNumber, newlyBroken: { type: 'number', minimum: 0 }, beyondWorstCase: { type: 'number', minimum: 0 },
  },
} as const;
const threatModel = {
  type: 'object',
  required: ['norm', 'epsilon', 'attacks', 'ran', 'evaluated', 'cleanAccuracy', 'robustAccuracy', 'breakers', 'perClass', 'worstClass'],
  properties: {
    norm: { enum: ['linf', 'l2', 'l0'] },
    epsilon: { type: 'number' },
    attacks: { type: 'array', items: { type: 'string' } },
    ran: { type: 'array', items: { type: 'string' } },
    evaluated: { type: 'integer', minimum: 0 },
    cleanAccuracy: { type: 'number', minimum: 0, maximum: 1 },
    cleanAccuracyInterval: interval,
    robustAccuracy: nullableNumber,
    robustAccuracyInterval: interval,
    breakers: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
    brokenBy: { type: 'array', items: { type: ['string', 'null'] } },
    broken: { type: 'object', additionalProperties: { type: 'array', items: { type: 'integer', minimum: 0 } } },
    perClass: { type: 'array', items: classAccuracy },
    worstClass: { type: ['object', 'null'], required: ['label', 'robustAccuracy'], properties: { label: { type: 'integer' }, robustAccuracy: nullableNumber } },
    reruns: { type: 'object', additionalProperties: rerun },
  },
} as const;
const histogramSchema = {
  type: 'object',
  required: ['quantity', 'norm', 'temperature', 'binEdges', 'counts', 'zeros', 'count'],
  properties: {
    quantity: { enum: ['probability', 'loss'] },
    norm: { enum: ['l1', 'l2'] },
    temperature: { type: 'number' },
    binEdges: { type: 'array', items: { type: 'number' } },
    counts: { type: 'array', items: { type: 'number', minimum: 0 } },
    zeros: { type: 'number', minimum: 0 },
    nonFinite: { type: 'number', minimum: 0 },
    underflow: { type: 'number', minimum: 0 },
    overflow: { type: 'number', minimum: 0 },
    count: { type: 'number', minimum: 0 },
    mean: nullableNumber,
    median: nullableNumber,
  },
} as const;

/** JSON Schema (draft 2020-12) of `results.json`, version 2 (histogram counts are means when seeds were merged). */
export const RESULTS_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://tempered.dev/schemas/results-2.json',
  title: 'Tempered evaluation results',
  type: 'object',
  required: ['schemaVersion', 'tempered', 'createdAt', 'dataset', 'evaluatedExamples', 'backend', 'models'],
  properties: {
    schemaVersion: { const: RESULTS_SCHEMA_VERSION },
    tempered: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    dataset: {
      type: 'object',
      required: ['name', 'split', 'size'],
      properties: { name: { type: 'string' }, split: { const: 'test' }, size: { type: 'integer' } },
    },
    evaluatedExamples: { type: 'integer', minimum: 0 },
    backend: {
      type: 'object',
      required: ['name', 'workers'],
      properties: { name: { type: 'string' }, source: { type: 'string' }, workers: { type: 'integer', minimum: 0 } },
    },
    seed: { type: 'integer' },
    seeds: { type: 'array', items: { type: 'integer' } },
    models: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['method', 'cleanAccuracy', 'threatModels', 'attacks', 'diagnostics', 'gradientHistogram', 'examples'],
        properties: {
          method: { type: 'string' },
          methodParams: { type: 'object' },
          classes: { type: 'integer', minimum: 1 },
          teacher: {
            type: 'object',
            required: ['name', 'source'],
            properties: {
              name: { type: 'string' },
              source: { enum: ['trained', 'loaded', 'student'] },
              method: { type: 'string' },
              methodParams: { type: 'object' },
              model: { type: 'string' },
              path: { type: 'string' },
            },
          },
          cleanAccuracy: { type: 'number', minimum: 0, maximum: 1 },
          cleanAccuracyInterval: interval,
          confidence: nullableNumber,
          agreement: nullableNumber,
          agreementInterval: interval,
          threatModels: { type: 'object', additionalProperties: threatModel },
          attacks: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              required: ['name', 'params', 'mode', 'norm', 'epsilon', 'evaluated', 'successRate', 'robustAccuracy', 'meanL0', 'meanL2', 'meanLinf'],
              properties: {
                name: { type: 'string' },
                params: { type: 'object' },
                mode: { enum: ['untargeted', 'targeted'] },
                norm: { enum: ['linf', 'l2', 'l0'] },
                kind: { enum: ['bounded', 'minimum-distortion'] },
                epsilon: nullableNumber,
                threatModel: { type: 'string' },
                maxL0: { type: 'number' },
                evaluated: { type: 'integer', minimum: 0 },
                pairs: { type: 'integer', minimum: 0 },
                attackable: { type: 'number', minimum: 0 },
                successRate: nullableNumber,
                successRateInterval: interval,
                robustAccuracy: nullableNumber,
                robustAccuracyInterval: interval,
                ran: { type: 'array', items: { type: 'string' } },
                meanL0: nullableNumber,
                medianL0: nullableNumber,
                meanL2: nullableNumber,
                medianL2: nullableNumber,
                meanLinf: nullableNumber,
                medianLinf: nullableNumber,
                rhoAdv: nullableNumber,
                meanIterations: nullableNumber,
                budgets: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['norm', 'epsilon', 'successRate', 'robustAccuracy'],
                    properties: {
                      norm: { enum: ['linf', 'l2', 'l0'] }, epsilon: { type: 'number' },
                      successRate: nullableNumber, successRateInterval: interval, robustAccuracy: nullableNumber, robustAccuracyInterval: interval,
                    },
                  },
                },
              },
            },
          },
          gradientHistogram: histogramSchema,
          lossGradientHistogram: histogramSchema,
          epsilonSweep: {
            type: 'object',
            required: ['attack', 'norm', 'points'],
            properties: {
              attack: { type: 'string' },
              params: { type: 'object' },
              norm: { enum: ['linf', 'l2', 'l0'] },
              evaluated: { type: 'integer' },
              range: { type: 'number' },
              points: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['epsilon', 'robustAccuracy'],
                  properties: { epsilon: { type: 'number' }, robustAccuracy: nullableNumber, robustAccuracyInterval: interval, successRate: nullableNumber },
                },
              },
            },
          },
          diagnostics: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'severity', 'message', 'evidence'],
              properties: {
                id: { type: 'string' },
                status: { enum: ['flagged', 'passed', 'not-run'] },
                severity: { enum: ['warning', 'info'] },
                message: { type: 'string' },
                evidence: { type: 'object', additionalProperties: { type: ['number', 'string', 'null'] } },
              },
            },
          },
          training: {
            type: 'object',
            additionalProperties: {
              type: 'array',
              items: { type: 'object', required: ['epoch', 'loss'], properties: { epoch: { type: 'integer' }, loss: { type: 'number' } } },
            },
          },
          examples: {
            type: 'object',
            additionalProperties: {
              type: 'array',
              items: {
                type: 'object',
                required: ['index', 'label', 'cleanPrediction', 'adversarialPrediction', 'success', 'shape', 'clean', 'adversarial'],
              },
            },
          },
          seeds: { type: 'array', items: { type: 'integer' } },
          std: { type: 'object' },
          missing: { type: 'object', additionalProperties: { type: 'array', items: { type: 'integer' } } },
          perSeed: { type: 'object' },
        },
      },
    },
  },
} as const;

/**
 * Checks the parts of a parsed results.json that rendering relies on and returns it typed.
 * Throws a ConfigError naming the file and field otherwise.
 */
export function parseResults(value: unknown, source = 'results.json'): ResultsFile {
  const fail = (field: string, expected: string): never => {
    throw new ConfigError(`${source}: ${field}`, expected);
  };
  if (typeof value !== 'object' || value === null) return fail('(root)', 'expected a JSON object');
  const file = value as Partial<ResultsFile>;
  if (file.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    return fail('schemaVersion', `expected ${RESULTS_SCHEMA_VERSION}, got ${JSON.stringify(file.schemaVersion)}`);
  }
  if (typeof file.models !== 'object' || file.models === null) return fail('models', 'expected an object of model results');
  for (const [name, model] of Object.entries(file.models)) {
    if (typeof model?.method !== 'string') fail(`models.${name}.method`, 'expected a string');
    if (typeof model.cleanAccuracy !== 'number') fail(`models.${name}.cleanAccuracy`, 'expected a number');
    if (typeof model.attacks !== 'object' || model.attacks === null) fail(`models.${name}.attacks`, 'expected an object');
    if (typeof model.threatModels !== 'object' || model.threatModels === null) fail(`models.${name}.threatModels`, 'expected an object (results.json of schema version 2)');
    if (!Array.isArray(model.diagnostics)) fail(`models.${name}.diagnostics`, 'expected an array');
  }
  if (typeof file.evaluatedExamples !== 'number') fail('evaluatedExamples', 'expected a number');
  return file as ResultsFile;
}
