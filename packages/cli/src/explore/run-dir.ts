import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { ConfigError, TOKENS, createPlugin, listPlugins, type DatasetSource } from '@tempered/core';
import { verifyModelFiles } from '@tempered/core/node';
import { readRunState } from '../run.js';
import type { RunConfig } from '../config.js';
import { TEACHER, teacherMethod } from '../plan.js';
import { registerBuiltins, registerUserPlugins } from '../plugins.js';
import type { ExplorerAttack, ExplorerManifest } from './manifest.js';

/** What the explorer serves from a run directory. */
export interface ExplorerRun {
  /** The directory holding run-state.json and models/ (a seed's directory for multi-seed runs). */
  readonly dir: string;
  readonly manifest: ExplorerManifest;
  /** Float32 pixels of the digits, [count, ...inputShape]. */
  readonly digits: Float32Array;
  /** Where each listed model is saved: models/<name>, or teacher.path for a loaded teacher. */
  readonly modelDirs: ReadonlyMap<string, string>;
}

const PAGE_ATTACKS: Record<ExplorerAttack['name'], { label: string; defaults: Record<string, unknown> }> = {
  fgsm: { label: 'FGSM (L∞, one step)', defaults: {} },
  // Few steps keep the page live; the step size follows ε (Madry et al.'s 2.5·ε/steps).
  pgd: { label: 'PGD (L∞, {steps} steps)', defaults: { steps: 20, randomStart: false } },
  cw: { label: 'C&W L2 (minimal perturbation; ε unused)', defaults: { binarySearchSteps: 4, maxIterations: 50 } },
};

/** A run directory: itself when it holds run-state.json, else its first seed-<n> directory. */
function runDirectory(dir: string): string {
  const root = resolve(dir);
  if (existsSync(join(root, 'run-state.json'))) return root;
  const seeds = existsSync(root) ? readdirSync(root).filter((d) => /^seed-\d+$/.test(d) && existsSync(join(root, d, 'run-state.json'))) : [];
  if (seeds.length > 0) return join(root, seeds.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))[0]!);
  throw new ConfigError('explore', `${root} holds no run-state.json; expected the --out directory of \`tempered run\``);
}

/** Reads a run's config and trained models, and loads its first evaluation digits. */
export async function readExplorerRun(dir: string, maxDigits: number): Promise<ExplorerRun> {
  const runDir = runDirectory(dir);
  const config = readRunState(runDir)!.config;
  const modelsDir = join(runDir, 'models');
  const trained = existsSync(modelsDir) ? readdirSync(modelsDir).filter((m) => existsSync(join(modelsDir, m, 'model.json'))) : [];
  const modelDirs = new Map(trained.map((name) => [name, join(modelsDir, name)]));
  // A loaded teacher is a model of the run too (relative paths resolve from the current directory, as the run's did).
  const loaded = config.teacher?.path;
  if (loaded && !modelDirs.has(TEACHER) && existsSync(join(loaded, 'model.json'))) {
    modelDirs.set(TEACHER, resolve(loaded));
    trained.push(TEACHER);
  }
  // The page loads these files as they are: a truncated model.json, damaged weights (checksum)
  // or NaN weights are refused here, naming the file, rather than served.
  for (const dir of modelDirs.values()) verifyModelFiles(dir);
  const order = [...config.students.map((s) => s.name), TEACHER];
  const models = trained
    .sort((a, b) => (order.indexOf(a) + 1 || order.length + 1) - (order.indexOf(b) + 1 || order.length + 1) || a.localeCompare(b))
    // The run's teacher is a model like the others, trained with the config's teacher method.
    .map((name) => ({ name, method: config.students.find((s) => s.name === name)?.method.name ?? (name === TEACHER ? (loaded ? 'loaded' : teacherMethod(config).name) : undefined) }));
  if (models.length === 0) throw new ConfigError('explore', `${modelsDir} holds no trained model (models/<name>/model.json); has the run trained anything yet?`);

  const container = rootContainer.createChildContainer();
  registerBuiltins(container);
  // A dataset from a user plugin: the config's relative plugin paths were relative to the config
  // file, which the run does not record, so they resolve from the current directory.
  if (!listPlugins(container, TOKENS.Dataset).includes(config.dataset.name)) await registerUserPlugins(container, config.plugins, process.cwd());
  const source = createPlugin(container, TOKENS.Dataset, config.dataset.name, config.dataset.params) as DatasetSource;
  const { test } = await source.load();
  const count = Math.min(maxDigits, config.evaluation.examples, test.size);
  const batch = test.batch(Array.from({ length: count }, (_, i) => i));
  const digits = new Float32Array(await batch.x.data());
  const labels = Array.from(await batch.labels.data());
  batch.x.dispose();
  batch.labels.dispose();

  const attacks = (Object.keys(PAGE_ATTACKS) as ExplorerAttack['name'][]).map((name) => {
    const fromRun = config.evaluation.attacks.find((a) => a.name === name)?.params ?? {};
    const { epsilon: _epsilon, stepSize: _stepSize, ...params } = { ...PAGE_ATTACKS[name].defaults, ...fromRun } as Record<string, unknown>;
    return { name, label: PAGE_ATTACKS[name].label.replace('{steps}', String(params.steps)), params };
  });
  return {
    dir: runDir,
    digits,
    modelDirs,
    manifest: {
      name: config.name,
      models,
      inputShape: test.inputShape,
      numClasses: test.numClasses,
      digits: { count, labels, dataset: config.dataset.name },
      attacks,
    },
  };
}
