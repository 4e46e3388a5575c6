import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { assertBuilt, runCli, runCliInProcess, smokeConfig, tempDir, writeConfig, type CliResult } from './helpers.js';

/**
 * Bad input is refused before any work: one line naming the field or file and what was expected,
 * a non-zero exit, no stack trace, and nothing in the output directory overwritten.
 *
 * Most cases call the built CLI's `main` in this process (each spawned CLI paid a second of
 * loading tfjs, 40 of them most of this file's time); the cases marked `spawned` run the real
 * binary, proving its exit status and that stderr holds the one line and nothing else.
 */
const dir = tempDir('refusals');

/** The real binary for `spawned` cases, `main` in this process for the others. */
async function cli(args: string[], spawned = false): Promise<CliResult> {
  return spawned ? runCli(args) : await runCliInProcess(args);
}

function idxImages(count: number, magic = 0x803): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(magic, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(28, 8);
  header.writeUInt32BE(28, 12);
  return Buffer.concat([header, Buffer.alloc(count * 784, 7)]);
}
function idxLabels(count: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x801, 0);
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, Buffer.from(Array.from({ length: count }, (_, i) => i % 10))]);
}

/** A tiny 3-class tfjs model directory (as tfjs saves it) and a copy missing its weights. */
function teacherDirs(): { threeClasses: string; noWeights: string } {
  const threeClasses = join(dir, 'teacher-3');
  const noWeights = join(dir, 'teacher-noweights');
  for (const d of [threeClasses, noWeights]) mkdirSync(d, { recursive: true });
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        { class_name: 'Flatten', config: { name: 'flat', batch_input_shape: [null, 28, 28, 1], dtype: 'float32', trainable: true } },
        { class_name: 'Dense', config: { name: 'out', units: 3, activation: 'linear', use_bias: true, kernel_initializer: { class_name: 'Zeros', config: {} }, bias_initializer: { class_name: 'Zeros', config: {} }, dtype: 'float32', trainable: true } },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const manifest = [{ paths: ['./weights.bin'], weights: [{ name: 'out/kernel', shape: [784, 3], dtype: 'float32' }, { name: 'out/bias', shape: [3], dtype: 'float32' }] }];
  const json = JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: manifest });
  writeFileSync(join(threeClasses, 'model.json'), json);
  writeFileSync(join(threeClasses, 'weights.bin'), Buffer.alloc((784 * 3 + 3) * 4));
  writeFileSync(join(noWeights, 'model.json'), json);
  return { threeClasses, noWeights };
}

interface Case {
  readonly name: string;
  readonly config?: unknown;
  readonly args?: string[];
  readonly message: RegExp;
  readonly spawned?: boolean;
}

let cases: Case[] = [];

beforeAll(() => {
  assertBuilt();
  const badMagic = join(dir, 'idx-bad-magic');
  mkdirSync(badMagic, { recursive: true });
  writeFileSync(join(badMagic, 'train-images-idx3-ubyte'), idxImages(20, 0x999));
  writeFileSync(join(badMagic, 'train-labels-idx1-ubyte'), idxLabels(20));
  writeFileSync(join(badMagic, 't10k-images-idx3-ubyte'), idxImages(10));
  writeFileSync(join(badMagic, 't10k-labels-idx1-ubyte'), idxLabels(10));
  const cifar = join(dir, 'cifar-truncated');
  mkdirSync(cifar, { recursive: true });
  for (let i = 1; i <= 5; i++) writeFileSync(join(cifar, `data_batch_${i}.bin`), Buffer.alloc(3073 * 2));
  writeFileSync(join(cifar, 'test_batch.bin'), Buffer.alloc(3073 * 2 - 100));
  const truncatedGz = join(dir, 'idx-truncated-gz');
  mkdirSync(truncatedGz, { recursive: true });
  writeFileSync(join(truncatedGz, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(20).subarray(0, 5000)));
  writeFileSync(join(truncatedGz, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels(20)));
  writeFileSync(join(truncatedGz, 't10k-images-idx3-ubyte.gz'), gzipSync(idxImages(10)));
  writeFileSync(join(truncatedGz, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxLabels(10)));
  const teachers = teacherDirs();
  const base = smokeConfig();
  const attacks = (attack: unknown) => ({ ...base, evaluation: { ...(base.evaluation as object), attacks: [attack] } });
  cases = [
    { name: 'malformed YAML', config: 'dataset: [mnist\nmodel: mlp', message: /config\.yaml: not valid YAML/ },
    { name: 'empty config', config: '   \n', message: /config\.yaml: config file is empty; expected YAML or JSON/ },
    { name: 'config that is not a mapping', config: '- 1\n- 2\n', message: /config\.yaml: expected a mapping with dataset, model, students and evaluation/ },
    { name: 'unknown top-level field', config: { ...base, epochz: 3 }, message: /^error: .*config\.yaml: epochz: unknown field; expected one of name, seed/, spawned: true },
    { name: 'unknown method, listing the known ones', config: { ...base, students: [{ name: 'x', method: 'ardd' }] }, message: /students\[0\]\.method: unknown method "ardd"; known: adaad, ard, crdnd, defensive-distillation, iad, iad-ii, kd, mart, mtard, pgd-at, rslad, standard, trades/ },
    { name: 'unknown attack', config: attacks({ name: 'deepfool' }), message: /evaluation\.attacks\[0\]\.name: unknown attack "deepfool"; known: apgd, autoattack, cw, fab, fgsm, jsma, pgd, square/ },
    { name: 'negative epsilon', config: attacks({ name: 'pgd', params: { epsilon: -0.1 } }), message: /evaluation\.attacks\[0\]\.params\.epsilon: expected ≥ 0, got -0\.1/ },
    { name: 'zero steps', config: attacks({ name: 'pgd', params: { steps: 0 } }), message: /evaluation\.attacks\[0\]\.params\.steps: expected ≥ 1, got 0/ },
    { name: 'negative temperature', config: { ...base, students: [{ name: 'dd', method: 'defensive-distillation', params: { temperature: -1 } }] }, message: /students\[0\]\.params\.temperature: expected > 0, got -1/ },
    { name: 'unknown method parameter', config: { ...base, students: [{ name: 'a', method: 'ard', params: { epsilonn: 0.3 } }] }, message: /students\[0\]\.params\.epsilonn: unknown parameter; expected one of/ },
    { name: 'missing dataset directory', config: { ...base, dataset: { name: 'idx', params: { dir: join(dir, 'nowhere') } } }, message: /nowhere/ },
    { name: 'bad IDX magic', config: { ...base, dataset: { name: 'idx', params: { dir: badMagic } } }, message: /train-images-idx3-ubyte: .*magic/i },
    { name: 'truncated gzipped IDX', config: { ...base, dataset: { name: 'idx', params: { dir: truncatedGz } } }, message: /train-images-idx3-ubyte\.gz: .*(truncated|expected)/i },
    { name: 'truncated CIFAR-10 batch', config: { ...base, model: 'mlp', dataset: { name: 'cifar10', params: { dir: cifar } } }, message: /test_batch\.bin: .*(truncated|multiple of 3073)/i },
    { name: 'teacher with another class count', config: { ...base, teacher: { path: teachers.threeClasses } }, message: /teacher\.path: teacher takes \[28, 28, 1\] → 3 classes but dataset "mnist" has \[28, 28, 1\] → 10 classes/ },
    { name: 'teacher directory without weights', config: { ...base, teacher: { path: teachers.noWeights } }, message: /teacher-noweights\/weights\.bin: weight file listed in model\.json is missing/ },
    { name: 'unknown teacher method', config: { ...base, teacher: { method: 'tradez' } }, message: /teacher\.method: unknown method "tradez"; known: .*trades/ },
    { name: 'teacher method that needs a teacher', config: { ...base, teacher: { method: 'ard' } }, message: /teacher\.method: "ard" needs a teacher itself/ },
    { name: 'teacher method with a bad parameter', config: { ...base, teacher: { method: 'trades', params: { beta: -1 } } }, message: /teacher\.params\.beta: expected ≥ 0, got -1/ },
    { name: 'teacher path and method together', config: { ...base, teacher: { path: teachers.threeClasses, method: 'trades' } }, message: /teacher\.method: give either path \(load a teacher\) or method \(train one\), not both/ },
    { name: 'student teacher that is not an earlier student', config: { ...base, students: [{ name: 'a', method: 'ard', teacher: 'b' }, { name: 'b', method: 'pgd-at' }] }, message: /students\[0\]\.teacher: expected the name of an earlier student \(trained first\), got "b"/ },
    { name: 'student teacher for a method without one', config: { ...base, students: [{ name: 'b', method: 'pgd-at' }, { name: 'c', method: 'standard', teacher: 'b' }] }, message: /students\[1\]\.teacher: method "standard" does not use a teacher with these params/ },
    // Several teachers by role (mtard declares robust and clean): each role named, no other, each the run's or an earlier teacher-free student.
    { name: 'teacher role missing', config: { ...base, students: [{ name: 'big', method: 'standard' }, { name: 'm', method: 'mtard', teachers: { robust: 'teacher' } }] }, message: /students\[1\]\.teachers\.clean: method "mtard" needs a clean teacher/ },
    { name: 'unknown teacher role', config: { ...base, students: [{ name: 'big', method: 'standard' }, { name: 'm', method: 'mtard', teachers: { robust: 'teacher', clean: 'big', natural: 'big' } }] }, message: /students\[1\]\.teachers\.natural: method "mtard" has no teacher role "natural"; its roles: robust, clean/ },
    { name: 'teacher role naming a later student', config: { ...base, students: [{ name: 'm', method: 'mtard', teachers: { robust: 'teacher', clean: 'big' } }, { name: 'big', method: 'standard' }] }, message: /students\[0\]\.teachers\.clean: expected "teacher" \(the run's\) or the name of an earlier student \(trained first\), got "big"/ },
    { name: 'teacher role trained by a distilling method', config: { ...base, students: [{ name: 'a', method: 'ard' }, { name: 'm', method: 'mtard', teachers: { robust: 'teacher', clean: 'a' } }] }, message: /students\[1\]\.teachers\.clean: "a" is trained by "ard", which needs a teacher itself/ },
    { name: 'teacher roles for a one-teacher method', config: { ...base, students: [{ name: 'a', method: 'ard', teachers: { robust: 'teacher' } }] }, message: /students\[0\]\.teachers: method "ard" distils from one teacher/ },
    { name: 'one teacher for a several-teacher method', config: { ...base, students: [{ name: 'big', method: 'standard' }, { name: 'm', method: 'mtard', teacher: 'big' }] }, message: /students\[1\]\.teacher: method "mtard" distils from several teachers; name each with teachers: \{ robust: …, clean: … \}/ },
    { name: 'missing config file', args: ['run', join(dir, 'absent.yaml')], message: /absent\.yaml: config file not found/ },
    { name: 'bad --backend', args: ['run', 'examples/smoke/config.yaml', '--backend', 'gpu'], message: /--backend: expected one of auto, tensorflow, wasm, cpu, got "gpu"/ },
    { name: 'unknown flag', args: ['run', 'examples/smoke/config.yaml', '--epochs', '3'], message: /arguments: Unknown option '--epochs'/ },
    { name: 'bad explore --port', args: ['explore', dir, '--port', '70000'], message: /--port: expected an integer in \[0, 65535\], got "70000"/ },
    { name: 'unknown command', args: ['train'], message: /command: unknown command "train"; expected run, bench, report, explore, schema, list or new/, spawned: true },
  ];
});

describe('refusals of bad input', () => {
  it('refuses each case with one line, non-zero exit, no stack, nothing overwritten', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(cases.filter((c) => c.spawned).length).toBeGreaterThanOrEqual(1);
    for (const [i, c] of cases.entries()) {
      const caseDir = join(dir, `case-${i}`);
      const out = join(caseDir, 'out');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'results.json'), '{"precious":true}');
      const args = c.args ?? ['run', writeConfig(caseDir, c.config), '--out', out, '--force'];
      const r = await cli(args, c.spawned);
      const lines = r.stderr.trim().split('\n');
      expect(r.status, `${c.name}: exit status`).not.toBe(0);
      expect(lines, `${c.name}: ${r.stderr}`).toHaveLength(1);
      expect(lines[0], c.name).toMatch(/^error: /);
      expect(lines[0], c.name).toMatch(c.message);
      expect(r.stderr, c.name).not.toMatch(/\n\s+at /);
      expect(readdirSync(out), c.name).toEqual(['results.json']);
      expect(readFileSync(join(out, 'results.json'), 'utf8'), c.name).toBe('{"precious":true}');
    }
  }, 300_000);
});

/**
 * The probe's run-file and path cases (issue 21): damaged files Tempered wrote, odd paths, plugins
 * that throw, merges that would invent statistics, divergence. Each is one line naming the file,
 * field or plugin, with a non-zero exit and no stack, and leaves the files it was given as they were.
 */
describe('refusals of damaged run files, odd paths and unmergeable runs', () => {
  const tiny = smokeConfig({
    dataset: { name: 'mnist', params: { trainSize: 200, testSize: 50 } },
    teacher: { epochs: 1 },
    students: [{ name: 'baseline', method: 'standard', params: { epochs: 1 } }],
    evaluation: { examples: 50, workers: 0, diagnostics: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }] },
  });

  /** A run directory holding a valid run-state.json for `config` (as `tempered run` writes it), and what else is given. */
  function runDirWith(name: string, files: Record<string, string | Buffer> = {}): string {
    const out = join(dir, name);
    const configPath = writeConfig(join(dir), tiny, `${name}.yaml`);
    mkdirSync(out, { recursive: true });
    // The effective config exactly as the CLI records it: --plan writes nothing, so read it back from a dry run's state.
    writeFileSync(join(out, 'run-state.json'), JSON.stringify({ version: 2, config: effectiveConfig(configPath), jobs: [] }));
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(join(out, file, '..'), { recursive: true });
      writeFileSync(join(out, file), content);
    }
    return out;
  }

  let effectiveConfig: (path: string) => unknown = () => ({});

  beforeAll(async () => {
    const { readConfig } = (await import('../packages/cli/dist/config.js')) as { readConfig: (p: string) => Record<string, unknown> };
    effectiveConfig = (path) => readConfig(path);
  });

  async function expectRefused(args: string[], message: RegExp, name: string, spawned = false): Promise<void> {
    const r = await cli(args, spawned);
    const lines = r.stderr.trim().split('\n');
    expect(r.status, `${name}: exit status`).not.toBe(0);
    expect(lines, `${name}: ${r.stderr}`).toHaveLength(1);
    expect(lines[0], name).toMatch(/^error: /);
    expect(lines[0], name).toMatch(message);
    expect(r.stderr, name).not.toMatch(/\n\s+at /);
  }

  function snapshot(root: string): Record<string, string> {
    const files: Record<string, string> = {};
    for (const file of readdirSync(root, { recursive: true }).map(String)) {
      const path = join(root, file);
      try {
        files[file] = readFileSync(path).toString('base64');
      } catch {
        // a directory
      }
    }
    return files;
  }

  it('refuses each case in one line naming the file, field or plugin, leaving the files as they were', async () => {
    const tinyPath = writeConfig(dir, tiny, 'tiny.yaml');
    const truncatedState = join(dir, 'truncated-state');
    mkdirSync(truncatedState, { recursive: true });
    writeFileSync(join(truncatedState, 'run-state.json'), JSON.stringify({ version: 2, config: tiny, jobs: ['a'] }).slice(0, 60));
    const teachers = teacherDirs();
    const model = (dir: string) => ({ json: readFileSync(join(dir, 'model.json'), 'utf8'), weights: readFileSync(join(dir, 'weights.bin')) });
    const three = model(teachers.threeClasses);
    const nanWeights = Buffer.from(three.weights);
    nanWeights.writeFloatLE(Number.NaN, 8);
    const damagedSum = JSON.stringify({ ...JSON.parse(three.json), weightsSha256: createHash('sha256').update(Buffer.from('other bytes')).digest('hex') });
    const nanTeacher = join(dir, 'teacher-nan');
    const damagedTeacher = join(dir, 'teacher-damaged');
    for (const [d, json, weights] of [[nanTeacher, three.json, nanWeights], [damagedTeacher, damagedSum, three.weights]] as const) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'model.json'), json);
      writeFileSync(join(d, 'weights.bin'), weights);
    }
    const throwing = join(dir, 'throwing-plugin.mjs');
    writeFileSync(throwing, "export function register() { throw new Error('registry is closed'); }\n");
    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, 'not a directory');
    const foreign = join(dir, 'not-a-run');
    mkdirSync(join(foreign, 'sub'), { recursive: true });
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    writeFileSync(join(foreign, 'sub', 'data.csv'), '1,2');
    const noFields = runDirWith('manifest-missing-fields', { 'checkpoints/teacher/latest.json': JSON.stringify({ format: 2, model: 'teacher', method: 'standard', seed: 1, position: { phase: 0, epoch: 0, batch: 3, step: 3 } }) });
    const truncatedModel = runDirWith('explore-truncated-model', { 'models/teacher/model.json': three.json.slice(0, 120), 'models/teacher/weights.bin': three.weights });
    const nanModel = runDirWith('report-nan-model', { 'models/teacher/model.json': three.json, 'models/teacher/weights.bin': nanWeights });

    const cases: Array<{ name: string; args: string[]; message: RegExp; untouched?: string; spawned?: boolean }> = [
      { name: 'truncated run-state.json (run --resume)', args: ['run', tinyPath, '--out', truncatedState, '--resume'], message: /truncated-state\/run-state\.json: not valid JSON/, untouched: truncatedState, spawned: true },
      { name: 'truncated run-state.json (report)', args: ['report', truncatedState], message: /truncated-state\/run-state\.json: not valid JSON/, untouched: truncatedState },
      { name: 'truncated run-state.json (explore)', args: ['explore', truncatedState, '--port', '0'], message: /truncated-state\/run-state\.json: not valid JSON/, untouched: truncatedState },
      { name: 'checkpoint manifest missing fields', args: ['run', join(dir, 'manifest-missing-fields.yaml'), '--out', noFields, '--resume', '--jobs', '1', '--quiet'], message: /checkpoints\/teacher\/latest\.json: data: expected the data file name ckpt-<n>\.bin/ },
      { name: 'plugin whose register() throws', args: ['run', writeConfig(dir, { ...tiny, plugins: [throwing] }, 'throwing.yaml'), '--out', join(dir, 'throwing-out')], message: /plugins: ".*throwing-plugin\.mjs": its register\(container\) threw: registry is closed/ },
      { name: 'config path that is a directory', args: ['run', dir], message: new RegExp(`${dir}: is a directory; expected a config file`) },
      { name: '--out that is a file', args: ['run', tinyPath, '--out', aFile], message: /a-file: --out is a file; expected a run directory/ },
      { name: '--resume on a folder that does not exist', args: ['run', tinyPath, '--out', join(dir, 'never-created'), '--resume'], message: /never-created: does not exist, so there is nothing to resume/ },
      { name: '--step past the plan', args: ['run', tinyPath, '--out', join(dir, 'step-out'), '--shard', '0/1', '--step', '99'], message: /--step: this plan has steps 1 to \d+ \(tempered run --plan lists them\), got 99/ },
      { name: '--force into a folder that is not a run', args: ['run', tinyPath, '--out', foreign, '--force'], message: /not-a-run: is not a Tempered run \(no run-state\.json\) and holds notes\.txt and 1 other file\(s\) Tempered did not write/, untouched: foreign },
      { name: 'teacher.path with NaN weights', args: ['run', writeConfig(dir, { ...tiny, teacher: { path: nanTeacher } }, 'nan-teacher.yaml'), '--out', join(dir, 'nan-out')], message: /teacher-nan\/model\.json: weight out\/kernel holds NaN or Inf/ },
      { name: 'teacher.path with damaged weights', args: ['run', writeConfig(dir, { ...tiny, teacher: { path: damagedTeacher } }, 'damaged-teacher.yaml'), '--out', join(dir, 'damaged-out')], message: /teacher-damaged\/weights\.bin: checksum mismatch/ },
      { name: 'explore of a truncated model.json', args: ['explore', truncatedModel, '--port', '0'], message: /models\/teacher\/model\.json: not valid JSON \(truncated\?\)/, untouched: truncatedModel },
      { name: 'report of a model with NaN weights', args: ['report', nanModel], message: /models\/teacher\/model\.json: weight out\/kernel holds NaN or Inf/, untouched: nanModel },
    ];
    for (const c of cases) {
      const before = c.untouched ? snapshot(c.untouched) : undefined;
      await expectRefused(c.args, c.message, c.name, c.spawned);
      if (before) expect(snapshot(c.untouched!), `${c.name}: files changed`).toEqual(before);
    }
    expect(existsSync(join(dir, 'never-created'))).toBe(false);
  }, 300_000);

  it('report refuses runs of different configs and the same seed twice, naming the field', async () => {
    const results = (seed: number, width: number) => ({
      schemaVersion: 2, tempered: '0.1.0', createdAt: '2026-12-07T00:00:00.000Z', dataset: { name: 'mnist', split: 'test', size: 50 },
      evaluatedExamples: 50, backend: { name: 'cpu', workers: 0 }, seed, config: { ...tiny, model: { name: 'mlp', params: { hiddenSizes: String(width) } }, seeds: [seed] }, models: {},
    });
    const write = (name: string, value: unknown) => {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(join(dir, name, 'results.json'), JSON.stringify(value));
      return join(dir, name);
    };
    const a = write('merge-a', results(1, 32));
    const b = write('merge-b', results(2, 128));
    await expectRefused(['report', a, b, '--out', join(dir, 'merged')], /merge-b\/results\.json: model\.params\.hiddenSizes is "128" but "32" in .*merge-a\/results\.json; only runs whose configs differ in the seed alone are merged/, 'different configs');
    await expectRefused(['report', a, a, '--out', join(dir, 'merged')], /merge-a\/results\.json: seed 1 is already in .*merge-a\/results\.json; each seed is merged once/, 'same run twice');
    expect(existsSync(join(dir, 'merged'))).toBe(false);
  });
});
