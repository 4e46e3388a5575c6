/**
 * The files `tempered new` writes: one plugin package per kind (method, attack, metric), each a
 * package.json, tsconfig, one plugin file, its `index.ts` with `register(container)`, a spec on the
 * public fixtures, an example config that trains in seconds, and a README.
 */
export type PluginTemplateKind = 'method' | 'attack' | 'metric';

/** Dependency specifiers (usually `file:` links to the checkout that runs `tempered new`). */
export interface TemplateLinks {
  readonly core: string;
  readonly attacks: string;
  readonly datasets: string;
  readonly cli: string;
  readonly tfjs: string;
  readonly typescript: string;
  readonly vitest: string;
}

/** `my-method` → `MyMethod`. */
const pascal = (name: string): string => name.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
/** `my-method` → `MY_METHOD`. */
const constant = (name: string): string => name.replace(/-/g, '_').toUpperCase();

function packageJson(kind: PluginTemplateKind, name: string, links: TemplateLinks, description: string): string {
  const dependencies: Record<string, string> = { '@tempered/core': links.core, '@tensorflow/tfjs': links.tfjs };
  if (kind === 'attack') dependencies['@tempered/attacks'] = links.attacks;
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    description,
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    files: ['dist', 'src', 'README.md', `${name}.yaml`],
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'vitest run',
      train: `tempered run ${name}.yaml --out runs/${name} --force`,
    },
    dependencies,
    devDependencies: {
      '@tempered/cli': links.cli,
      '@tempered/datasets': links.datasets,
      typescript: links.typescript,
      vitest: links.vitest,
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023', 'DOM'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: [],
      strict: true,
      declaration: true,
      sourceMap: true,
      skipLibCheck: true,
      esModuleInterop: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.spec.ts'],
  },
  null,
  2,
)}\n`;

// Training a spec teacher takes seconds, more on a busy machine: vitest's 5 s/10 s defaults are too tight.
const VITEST_CONFIG = `export default {
  test: { include: ['src/**/*.spec.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
};
`;

const GITIGNORE = 'node_modules/\ndist/\nruns/\n';

// ---------------------------------------------------------------- method

function methodFile(name: string): string {
  const C = constant(name);
  return `/**
 * ${name}: a distillation method. What \`tempered new method\` wrote is soft-label distillation
 * (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"); replace the
 * step with your method's and cite its paper here.
 *
 * \`L = alpha·T²·KL(softmax(teacher(x)/T) ‖ softmax(student(x)/T)) + (1 − alpha)·CE(student(x), y)\`
 *
 * Parameters: \`temperature\` T (4), \`alpha\` (0.9); defineMethod adds \`epochs\` (10),
 * \`optimizer\` ({ name: 'adam', learningRate: 1e-3 }) and \`schedule\` ({ name: 'constant' }).
 * Shapes: x [batch, ...inputShape], labels int32 [batch], logits [batch, classes].
 *
 * @example
 * \`\`\`ts
 * const container = testContainer(register); // from @tempered/core/testing
 * const method = createPlugin(container, TOKENS.Method, '${name}', { temperature: 4 });
 * \`\`\`
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, defineMethod, defineParams, klDivergence, softmaxAt } from '@tempered/core';

export const ${C}_PARAMS = defineParams({
  temperature: { type: 'number', default: 4, greaterThan: 0, description: 'Softmax temperature T of the soft labels' },
  alpha: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Weight of the soft-label KL; 1 − alpha weights CE on the labels' },
});

export const ${C} = defineMethod({
  name: '${name}',
  description: 'Soft-label distillation (Hinton et al. 2015), written by tempered new',
  teacher: 'required',
  adversarial: false,
  params: ${C}_PARAMS,
  step({ batch: { x, labels }, params: { temperature, alpha }, student, teacher, minimize }) {
    // The teacher's soft labels are constants of the step: computed outside the gradient tape.
    const softLabels = tf.tidy(() => softmaxAt(teacher.logits(x), temperature));
    try {
      return minimize(() => {
        const logits = student.logits(x, { training: true });
        // T² keeps the soft term's gradient scale independent of T (Hinton et al., section 2).
        const softLabelKl = tf.mul(klDivergence({ target: softLabels, logits, temperature }), temperature * temperature) as tf.Scalar;
        const labelCe = crossEntropy(logits, labels);
        const loss = tf.add(tf.mul(softLabelKl, alpha), tf.mul(labelCe, 1 - alpha)) as tf.Scalar;
        return { loss, terms: { softLabelKl, labelCe }, logits, labels };
      });
    } finally {
      softLabels.dispose();
    }
  },
});
`;
}

function methodSpec(name: string): string {
  return `import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, TOKENS, Trainer, createPlugin, crossEntropy, klDivergence, listPlugins, softmaxAt, type Teacher } from '@tempered/core';
import { accuracy, expectNoLeaks, mlpStudent, testContainer, trainTeacher } from '@tempered/core/testing';
import { mnistTiny } from '@tempered/datasets/testing';
import { register } from './index.js';

// Real MNIST digits: 200 to train the student, 100 for the teacher, 300 held out.
const { train, teacherTrain, heldOut } = mnistTiny();
const container = testContainer(register);
let teacher: Teacher;

beforeAll(() => {
  teacher = trainTeacher(teacherTrain);
});
afterAll(() => teacher.dispose());

/** The method's loss on one fixed batch, after setup, for given params. */
async function firstStepLoss(params: Record<string, unknown>): Promise<{ loss: number; student: ReturnType<typeof mlpStudent> }> {
  const student = mlpStudent('${name}-fixed', 4);
  const method = createPlugin(container, TOKENS.Method, '${name}', params);
  await method.setup({ student, teacher, createModel: () => student, train, batchSize: 32, seed: 1, container });
  const { x, labels } = train.batch(Array.from({ length: 32 }, (_, i) => i));
  const step = { phase: 'student', epoch: 0, batch: 0, step: 0, rng: new Rng(1) };
  const { loss } = await method.phases()[0]!.trainStep({ x, labels, indices: new Int32Array(32) }, step);
  x.dispose();
  labels.dispose();
  method.dispose();
  return { loss, student };
}

describe('${name}', () => {
  it('is registered by name in the container it was given', () => {
    expect(listPlugins(container, TOKENS.Method)).toContain('${name}');
    expect(listPlugins(testContainer(), TOKENS.Method)).not.toContain('${name}');
  });

  it('computes its objective on a fixed batch as written: alpha 0 is the label CE, alpha 1 the T²-scaled KL', async () => {
    const { x, labels } = train.batch(Array.from({ length: 32 }, (_, i) => i));
    const byHand = (alpha: number, temperature: number) =>
      tf.tidy(() => {
        const student = mlpStudent('${name}-fixed', 4); // same seed: the weights the method starts from
        const logits = student.logits(x);
        const kl = klDivergence({ target: softmaxAt(teacher.logits(x), temperature), logits, temperature }).mul(temperature ** 2);
        const value = kl.mul(alpha).add(crossEntropy(logits, labels).mul(1 - alpha)).dataSync()[0]!;
        student.dispose();
        return value;
      });
    for (const [alpha, temperature] of [[0, 4], [1, 4], [0.5, 2]] as const) {
      const { loss, student } = await firstStepLoss({ alpha, temperature });
      student.dispose();
      expect(loss).toBeCloseTo(byHand(alpha, temperature), 4);
    }
    expect(byHand(1, 4)).not.toBeCloseTo(byHand(0, 4), 2); // the two terms differ, so the check above can fail
    x.dispose();
    labels.dispose();
  });

  it('trains on real digits: finite falling loss, well above chance on held-out digits, no tensor left behind', async () => {
    const student = mlpStudent('${name}-student', 2);
    await expectNoLeaks(async () => {
      const method = createPlugin(container, TOKENS.Method, '${name}', { epochs: 4, optimizer: { learningRate: 3e-3 } });
      await method.setup({ student, teacher, createModel: (n) => mlpStudent(n, 1), train, batchSize: 50, seed: 3, container });
      const losses: number[] = [];
      await new Trainer().on('epoch:end', (e) => void losses.push(e.loss)).run(method, { model: '${name}', train, batchSize: 50, seed: 3 });
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]!);
      expect(accuracy(method.result(), heldOut)).toBeGreaterThan(0.5); // chance is 0.1
      method.dispose();
    }, '${name} training');
    student.dispose();
  });

  it('refuses bad parameters and a missing teacher, naming the field', () => {
    expect(() => createPlugin(container, TOKENS.Method, '${name}', { alpha: 2 })).toThrow(/^${name}\\.alpha/);
    expect(() => createPlugin(container, TOKENS.Method, '${name}', { temprature: 4 })).toThrow(/temprature/);
    const student = mlpStudent('${name}-alone', 5);
    const method = createPlugin(container, TOKENS.Method, '${name}', {});
    expect(() => method.setup({ student, createModel: () => student, train, batchSize: 50, seed: 1, container })).toThrow(/${name}\\.teacher/);
    student.dispose();
  });
});
`;
}

// ---------------------------------------------------------------- attack

function attackFile(name: string): string {
  const C = constant(name);
  const P = pascal(name);
  return `/**
 * ${name}: an L∞ attack. What \`tempered new attack\` wrote is R+FGSM (Tramèr et al. 2018,
 * "Ensemble Adversarial Training: Attacks and Defenses", ICLR): a random sign step of size alpha,
 * then one gradient-sign step of ε − alpha, projected to the ε-ball and the input bounds.
 * Replace \`attack\` with yours and cite its paper here.
 *
 * \`x₀ = clip(x + alpha·sign(N(0, I)))\`, \`x′ = clip_{x,ε}(x₀ + (ε − alpha)·sign(∇ₓ CE(f(x₀), y)))\` (targeted: minus, on t)
 *
 * Parameters: \`epsilon\` (0.3) the L∞ budget; \`alpha\` (0.15) the random step, at most ε.
 * Shapes: x [batch, ...inputShape] within the bounds, y int32 [batch]; the result has x's shape.
 *
 * @example
 * \`\`\`ts
 * const attack = new ${P}({ epsilon: 0.1, alpha: 0.05 });
 * const xAdv = await attack.generate(model, x, y, { seed: 1 });
 * \`\`\`
 */
import * as tf from '@tensorflow/tfjs';
import { BaseAttack, objectiveGradient, type AttackContext } from '@tempered/attacks';
import { ConfigError, defineParams, factoryPlugin, type AttackResult, type Model, type ParamValues } from '@tempered/core';

export const ${C}_PARAMS = defineParams({
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'L∞ budget ε (pixel units)' },
  alpha: { type: 'number', default: 0.15, min: 0, description: 'Size of the random sign step taken first (at most ε)' },
});
export type ${P}Params = ParamValues<typeof ${C}_PARAMS>;

export class ${P} extends BaseAttack<typeof ${C}_PARAMS> {
  readonly name = '${name}';
  readonly norm = 'linf' as const;
  readonly supportedModes = ['untargeted', 'targeted'] as const;

  constructor(params?: Partial<${P}Params> | Record<string, unknown>) {
    super('${name}', ${C}_PARAMS, params);
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  protected override validate(values: ${P}Params): ${P}Params {
    if (values.alpha > values.epsilon) throw new ConfigError('${name}.alpha', \`expected at most epsilon (\${values.epsilon}), got \${values.alpha}\`);
    return values;
  }

  protected async attack(model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const { epsilon, alpha } = this.values;
    const { min, max } = context.bounds;
    const start = tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(tf.sign(tf.randomNormal(x.shape, 0, 1, 'float32', context.seed)), alpha)), min, max));
    const { gradient, logits } = objectiveGradient(model, start, context.labels, { loss: 'ce', targeted: context.targeted });
    const adversarial = tf.tidy(() => {
      const stepped = tf.add(start, tf.mul(tf.sign(gradient), epsilon - alpha));
      const inBall = tf.minimum(tf.maximum(stepped, tf.sub(x, epsilon)), tf.add(x, epsilon));
      return tf.clipByValue(inBall, min, max);
    });
    tf.dispose([start, gradient, logits]);
    return { adversarial, iterations: new Int32Array(x.shape[0]!).fill(1) };
  }
}

/** The descriptor \`register\` adds under TOKENS.Attack. */
export const ${C} = factoryPlugin('${name}', (params) => new ${P}(params), {
  description: 'R+FGSM (Tramèr et al. 2018): random sign step, then one gradient-sign step; written by tempered new',
  params: ${C}_PARAMS,
});
`;
}

function attackSpec(name: string): string {
  const P = pascal(name);
  return `import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS, createPlugin, listPlugins, type Attack, type Teacher } from '@tempered/core';
import { accuracy, expectNoLeaks, testContainer, trainTeacher } from '@tempered/core/testing';
import { mnistTiny } from '@tempered/datasets/testing';
import { ${P} } from './${name}.js';
import { register } from './index.js';

// Real MNIST digits: the model is an MLP trained on 100 of them, attacked on 300 held out.
const { teacherTrain, heldOut } = mnistTiny();
const container = testContainer(register);
let model: Teacher;

beforeAll(() => {
  model = trainTeacher(teacherTrain);
});
afterAll(() => model.dispose());

describe('${name}', () => {
  it('is registered by name and created with its params', () => {
    expect(listPlugins(container, TOKENS.Attack)).toContain('${name}');
    const attack = createPlugin(container, TOKENS.Attack, '${name}', { epsilon: 0.2, alpha: 0.1 }) as Attack;
    expect(attack.params()).toEqual({ epsilon: 0.2, alpha: 0.1 });
  });

  it('stays within ε of x and within the input bounds, leaking no tensor', async () => {
    const epsilon = 0.1;
    const { x, labels } = heldOut.batch(Array.from({ length: 64 }, (_, i) => i));
    const [distance, low, high] = await expectNoLeaks(async () => {
      const xAdv = await new ${P}({ epsilon, alpha: 0.05 }).generate(model, x, labels, { seed: 3 });
      const stats = tf.tidy(() => [tf.max(tf.abs(tf.sub(xAdv, x))), tf.min(xAdv), tf.max(xAdv)].map((t) => t.dataSync()[0]!));
      xAdv.dispose();
      return stats;
    }, '${name}');
    expect(distance).toBeLessThanOrEqual(epsilon + 1e-6);
    expect(distance).toBeGreaterThan(epsilon / 2); // it moved: a no-op attack fails here
    expect(low).toBeGreaterThanOrEqual(0);
    expect(high).toBeLessThanOrEqual(1);
    tf.dispose([x, labels]);
  });

  it('lowers accuracy well below clean accuracy, and more at a larger ε', async () => {
    const { x, labels } = heldOut.batch(Array.from({ length: heldOut.size }, (_, i) => i));
    const underAttack = async (epsilon: number) => {
      const xAdv = await new ${P}({ epsilon, alpha: epsilon / 2 }).generate(model, x, labels, { seed: 1 });
      const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(xAdv), 1), labels), 'int32')).dataSync()[0]!);
      xAdv.dispose();
      return correct / heldOut.size;
    };
    const clean = accuracy(model, heldOut);
    const small = await underAttack(0.1);
    const large = await underAttack(0.3);
    expect(small).toBeLessThan(clean - 0.1);
    expect(large).toBeLessThan(small);
    tf.dispose([x, labels]);
  });

  it('refuses alpha above epsilon, naming the field', () => {
    expect(() => new ${P}({ epsilon: 0.1, alpha: 0.2 })).toThrow(/^${name}\\.alpha/);
  });
});
`;
}

// ---------------------------------------------------------------- metric

function metricFile(name: string): string {
  const C = constant(name);
  const P = pascal(name);
  return `/**
 * ${name}: an evaluation metric. What \`tempered new metric\` wrote is the mean logit margin
 * \`Z_y − max_{i≠y} Z_i\` over the evaluated examples (positive: classified correctly; the C&W
 * margin of Carlini & Wagner 2017), on the attacked inputs when the batch carries an attack, else on
 * the clean ones. Replace \`update\` and \`result\` with your metric's.
 *
 * Parameters: \`attacked\` (true) use the adversarial logits when a batch has them.
 * Shapes: logits [batch, classes], labels int32 [batch].
 *
 * @example
 * \`\`\`ts
 * const metric = createPlugin(testContainer(register), TOKENS.Metric, '${name}', {});
 * metric.update({ modelName: 'student', x, labels, logits });
 * metric.result(); // { meanMargin, examples }
 * \`\`\`
 */
import * as tf from '@tensorflow/tfjs';
import { defineParams, factoryPlugin, validateParams, type EvaluationBatch, type Metric, type ParamValues } from '@tempered/core';

export const ${C}_PARAMS = defineParams({
  attacked: { type: 'boolean', default: true, description: 'Use the adversarial logits when a batch carries an attack' },
});

export interface ${P}Result {
  readonly meanMargin: number;
  readonly examples: number;
}

export class ${P} implements Metric<${P}Result> {
  readonly name = '${name}';
  private sum = 0;
  private count = 0;
  private readonly params: ParamValues<typeof ${C}_PARAMS>;

  constructor(params?: Record<string, unknown>) {
    this.params = validateParams('${name}', ${C}_PARAMS, params);
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
  }

  update(batch: EvaluationBatch): void {
    const logits = this.params.attacked && batch.attack ? batch.attack.adversarialLogits : batch.logits;
    const classes = logits.shape[1];
    this.sum += tf.tidy(() => {
      const own = tf.oneHot(batch.labels, classes);
      const trueLogit = tf.sum(tf.mul(logits, own), 1);
      // Push the true class far down so the max is over the others.
      const otherMax = tf.max(tf.sub(logits, tf.mul(own, 1e9)), 1);
      return tf.sum(tf.sub(trueLogit, otherMax)).dataSync()[0]!;
    });
    this.count += logits.shape[0];
  }

  result(): ${P}Result {
    return { meanMargin: this.count === 0 ? Number.NaN : this.sum / this.count, examples: this.count };
  }
}

/** The descriptor \`register\` adds under TOKENS.Metric. */
export const ${C} = factoryPlugin('${name}', (params) => new ${P}(params), {
  description: 'Mean logit margin Z_y − max other Z over evaluated examples; written by tempered new',
  params: ${C}_PARAMS,
});
`;
}

function metricSpec(name: string): string {
  const P = pascal(name);
  return `import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TOKENS, createPlugin, listPlugins, type Metric } from '@tempered/core';
import { accuracy, expectNoLeaks, testContainer, trainTeacher } from '@tempered/core/testing';
import { mnistTiny } from '@tempered/datasets/testing';
import type { ${P}Result } from './${name}.js';
import { register } from './index.js';

const container = testContainer(register);
const create = (params: Record<string, unknown> = {}) => createPlugin(container, TOKENS.Metric, '${name}', params) as Metric<${P}Result>;

describe('${name}', () => {
  it('is registered by name', () => {
    expect(listPlugins(container, TOKENS.Metric)).toContain('${name}');
  });

  it('is the mean of Z_y − max other Z, computed by hand on a fixed batch, across batches', async () => {
    const metric = create();
    await expectNoLeaks(() => {
      const x = tf.zeros([3, 1]);
      const labels = tf.tensor1d([0, 2, 1], 'int32');
      // margins: 3 − 1 = 2, 0.5 − 2 = −1.5, 4 − 4 = 0
      const logits = tf.tensor2d([[3, 1, -1], [2, 0, 0.5], [4, 4, 1]]);
      metric.update({ modelName: 'm', x, labels, logits });
      const secondX = tf.zeros([1, 1]);
      const second = tf.tensor2d([[0, 5, 1]]);
      const secondLabels = tf.tensor1d([1], 'int32'); // margin 5 − 1 = 4
      metric.update({ modelName: 'm', x: secondX, labels: secondLabels, logits: second });
      tf.dispose([x, labels, logits, secondX, second, secondLabels]);
    }, '${name}');
    // (2 − 1.5 + 0 + 4) / 4 examples
    expect(metric.result().examples).toBe(4);
    expect(metric.result().meanMargin).toBeCloseTo(4.5 / 4, 6);
    metric.reset();
    expect(metric.result().examples).toBe(0);
  });

  it('reads the attacked logits when the batch has them, unless attacked is false', () => {
    const x = tf.zeros([1, 1]);
    const labels = tf.tensor1d([0], 'int32');
    const logits = tf.tensor2d([[2, 0]]);
    const adversarialLogits = tf.tensor2d([[0, 3]]);
    const batch = { modelName: 'm', x, labels, logits, attack: { name: 'fgsm', mode: 'untargeted' as const, adversarial: x, adversarialLogits } };
    const attacked = create();
    attacked.update(batch);
    expect(attacked.result().meanMargin).toBeCloseTo(-3, 6);
    const clean = create({ attacked: false });
    clean.update(batch);
    expect(clean.result().meanMargin).toBeCloseTo(2, 6);
    tf.dispose([x, labels, logits, adversarialLogits]);
  });

  it('is positive on average for a model that classifies most real digits right', () => {
    const { teacherTrain, heldOut } = mnistTiny();
    const model = trainTeacher(teacherTrain);
    const { x, labels } = heldOut.batch(Array.from({ length: heldOut.size }, (_, i) => i));
    const logits = model.logits(x);
    const metric = create();
    metric.update({ modelName: 'teacher', x, labels, logits });
    expect(accuracy(model, heldOut)).toBeGreaterThan(0.6);
    expect(metric.result().meanMargin).toBeGreaterThan(0);
    tf.dispose([x, labels, logits]);
    model.dispose();
  });
});
`;
}

// ---------------------------------------------------------------- shared files

function indexFile(kind: PluginTemplateKind, name: string): string {
  const C = constant(name);
  const token = { method: 'Method', attack: 'Attack', metric: 'Metric' }[kind];
  return `/**
 * The ${name} plugin package: \`register(container)\` is what the \`tempered\` command calls for each
 * entry of a config's \`plugins:\` (and for \`--plugin\`). No tsyringe import is needed.
 */
import { TOKENS, registerPlugin, type DependencyContainer } from '@tempered/core';
import { ${C} } from './${name}.js';

export * from './${name}.js';

/** Registers \`${name}\` under TOKENS.${token}. */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.${token}, ${C});
}
`;
}

function exampleConfig(kind: PluginTemplateKind, name: string): string {
  const students =
    kind === 'method'
      ? `  - { name: baseline, method: standard, params: { epochs: 2 } }
  - { name: ${name}, method: ${name}, params: { epochs: 2, optimizer: { name: adam, learningRate: 0.003 } } }`
      : `  - { name: baseline, method: standard, params: { epochs: 2 } }`;
  const attacks =
    kind === 'attack'
      ? `    - { name: fgsm, params: { epsilon: 0.1 } }
    - { name: ${name}, params: { epsilon: 0.1, alpha: 0.05 } }`
      : `    - { name: fgsm, params: { epsilon: 0.1 } }
    - { name: pgd, params: { epsilon: 0.1, stepSize: 0.025, steps: 10 } }`;
  const note =
    kind === 'metric'
      ? `# The run loads the plugin (tempered list --plugin . shows the metric); the metric itself runs in
# your specs and wherever an evaluation creates it by name (createPlugin(container, TOKENS.Metric, '${name}')).
`
      : '';
  return `# Trains ${kind === 'method' ? `${name} next to the standard baseline` : 'a baseline'} on 1,000 real MNIST digits and attacks it: seconds, not minutes.
#   npm run build && npx tempered run ${name}.yaml --out runs/${name}
# plugins: "." is this package's folder; its package.json names the built entry (dist/index.js).
${note}name: ${name}
seed: 1
plugins:
  - .
dataset: { name: mnist, params: { trainSize: 1000, testSize: 100 } }
model: { name: mlp, params: { hiddenSizes: "64" } }
batchSize: 50
teacher: { epochs: 2 }
students:
${students}
evaluation:
  examples: 100
  workers: 0
  diagnostics: false
  attacks:
${attacks}
`;
}

function readme(kind: PluginTemplateKind, name: string): string {
  const linked = 'linked (`file:`) to the Tempered checkout that ran `tempered new`';
  return `# ${name}

A Tempered ${kind} plugin package, written by \`tempered new ${kind} ${name}\`.

| File | What |
| --- | --- |
| \`src/${name}.ts\` | the ${kind}: parameters with defaults, TSDoc citing its paper, the code |
| \`src/index.ts\` | \`register(container)\`, which the \`tempered\` command calls for each config \`plugins:\` entry |
| \`src/${name}.spec.ts\` | its spec, on the public fixtures (\`@tempered/core/testing\`, \`@tempered/datasets/testing\`) |
| \`${name}.yaml\` | a run that ${kind === 'method' ? 'trains it' : kind === 'attack' ? 'attacks with it' : 'loads it'} in seconds |

## Use

\`\`\`sh
npm install          # links the framework's packages; nothing is fetched
npm run build        # tsc → dist/
npm test             # vitest
npx tempered list --plugin .
npx tempered run ${name}.yaml --out runs/${name}
\`\`\`

From another config, list this folder (or, once installed, the package name) under \`plugins:\`.

## One copy of tfjs, tsyringe and @tempered/core

\`package.json\` depends on \`@tempered/core\`, \`@tensorflow/tfjs\` and the tools ${linked},
so this package, the \`tempered\` command and the specs load the very same copies. Do not
\`npm install @tensorflow/tfjs\` (or tsyringe, or a published @tempered/core) here: a second copy
has its own tensors, kernels and DI container, and \`tempered\` refuses to load a plugin that would
bring one. If the checkout moves, run \`tempered new ${kind} ${name}\` from the new one into a scratch
folder and copy its \`package.json\` dependencies.

See docs/plugins.md in the Tempered repository.
`;
}

/** Every file of a new plugin package, by path relative to its folder. */
export function pluginTemplate(kind: PluginTemplateKind, name: string, links: TemplateLinks): Record<string, string> {
  const description = { method: 'A Tempered distillation method plugin', attack: 'A Tempered attack plugin', metric: 'A Tempered metric plugin' }[kind];
  const [source, spec] =
    kind === 'method' ? [methodFile(name), methodSpec(name)] : kind === 'attack' ? [attackFile(name), attackSpec(name)] : [metricFile(name), metricSpec(name)];
  return {
    'package.json': packageJson(kind, name, links, description),
    'tsconfig.json': TSCONFIG,
    'vitest.config.ts': VITEST_CONFIG,
    '.gitignore': GITIGNORE,
    '.npmrc': 'audit=false\nfund=false\n',
    [`src/${name}.ts`]: source,
    'src/index.ts': indexFile(kind, name),
    [`src/${name}.spec.ts`]: spec,
    [`${name}.yaml`]: exampleConfig(kind, name),
    'README.md': readme(kind, name),
  };
}
