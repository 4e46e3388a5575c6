// The `tempered explore` page. Everything is computed here, in the browser: the run's models are
// loaded with tf.loadLayersModel from the explorer's server, and @tempered/attacks runs on the
// wasm backend with @tempered/wasm-train's kernels (or on the backend named by ?backend=).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tempered/wasm-train';
import { cw, fgsm, madryStepSize, pgd } from '@tempered/attacks';
import { imageToRgb, perturbationToRgb } from '@tempered/reports';
import type { ExplorerAttack, ExplorerManifest } from '../manifest.js';
import { DrawingPad } from './draw.js';

interface LoadedModel {
  readonly name: string;
  readonly method?: string;
  readonly model: tf.LayersModel;
}

interface Outcome {
  readonly name: string;
  readonly clean: { label: number; confidence: number };
  readonly adversarial: { label: number; confidence: number };
  readonly image: number[];
  readonly delta: number[];
}

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function paint(canvas: HTMLCanvasElement, picture: { width: number; height: number; rgb: Uint8Array }): void {
  canvas.width = picture.width;
  canvas.height = picture.height;
  const data = new ImageData(picture.width, picture.height);
  for (let i = 0; i < picture.width * picture.height; i++) {
    data.data.set([picture.rgb[i * 3]!, picture.rgb[i * 3 + 1]!, picture.rgb[i * 3 + 2]!, 255], i * 4);
  }
  canvas.getContext('2d')!.putImageData(data, 0, 0);
}

function top(probabilities: Float32Array | Int32Array | Uint8Array): { label: number; confidence: number } {
  let label = 0;
  for (let k = 1; k < probabilities.length; k++) if (probabilities[k]! > probabilities[label]!) label = k;
  return { label, confidence: probabilities[label]! };
}

async function probabilities(model: tf.LayersModel, x: tf.Tensor): Promise<{ label: number; confidence: number }> {
  const p = tf.tidy(() => tf.softmax(model.predict(x) as tf.Tensor2D));
  const values = await p.data();
  p.dispose();
  return top(values);
}

async function attack(spec: ExplorerAttack, model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor1D, epsilon: number): Promise<tf.Tensor> {
  if (spec.name === 'fgsm') return fgsm(model, x, y, { ...spec.params, epsilon });
  if (spec.name === 'pgd') {
    // The slider moves ε, so the run's step size (set for the run's ε) is replaced by the rule PGD uses.
    const steps = Number(spec.params.steps ?? 20);
    return pgd(model, x, y, { ...spec.params, epsilon, stepSize: madryStepSize(epsilon, steps) });
  }
  return cw(model, x, y, spec.params);
}

/** The backend named by `?backend=` (default wasm), or cpu when this browser cannot give it. */
async function chooseBackend(): Promise<string> {
  const wanted = new URLSearchParams(location.search).get('backend') ?? 'wasm';
  setWasmPaths('/wasm/');
  let backend = wanted;
  try {
    if (!(await tf.setBackend(wanted))) throw new Error(`backend ${wanted} unavailable`);
  } catch {
    backend = 'cpu';
    await tf.setBackend('cpu');
  }
  await tf.ready();
  return backend;
}

/** What the explorer's server serves of the run: the manifest, the evaluation digits, every model. */
interface LoadedRun {
  readonly manifest: ExplorerManifest;
  readonly digits: Float32Array;
  /** Values per digit (the product of the input shape). */
  readonly size: number;
  readonly models: LoadedModel[];
}

async function loadRun(): Promise<LoadedRun> {
  const manifest = (await (await fetch('/run/manifest.json')).json()) as ExplorerManifest;
  const digits = new Float32Array(await (await fetch('/run/digits.bin')).arrayBuffer());
  const size = manifest.inputShape.reduce((a, b) => a * b, 1);
  const models: LoadedModel[] = [];
  for (const m of manifest.models) models.push({ ...m, model: await tf.loadLayersModel(`/run/models/${encodeURIComponent(m.name)}/model.json`) });
  return { manifest, digits, size, models };
}

type Source = { digit: number } | { drawn: Float32Array };

/** The digit grid: one button per evaluation digit; `onPick(i)` when one is clicked. Returns the buttons. */
function digitPicker(run: LoadedRun, onPick: (digit: number) => void): HTMLButtonElement[] {
  const { manifest, digits, size } = run;
  const grid = element('digits');
  const buttons: HTMLButtonElement[] = [];
  for (let i = 0; i < manifest.digits.count; i++) {
    const button = document.createElement('button');
    button.dataset.digit = String(i);
    button.title = `evaluation digit ${i} (label ${manifest.digits.labels[i]})`;
    const canvas = document.createElement('canvas');
    paint(canvas, imageToRgb(Array.from(digits.subarray(i * size, (i + 1) * size)), manifest.inputShape));
    button.append(canvas);
    button.addEventListener('click', () => onPick(i));
    grid.append(button);
    buttons.push(button);
  }
  return buttons;
}

/** Attacks every model on one input; labels are the digit's, or each model's own clean prediction for a drawing. */
async function attackEveryModel(run: LoadedRun, source: Source, pixels: Float32Array, spec: ExplorerAttack, epsilon: number): Promise<Outcome[]> {
  const x = tf.tensor(pixels, [1, ...run.manifest.inputShape]);
  const outcomes: Outcome[] = [];
  try {
    for (const { name, model } of run.models) {
      const clean = await probabilities(model, x);
      const y = tf.tensor1d(['digit' in source ? run.manifest.digits.labels[source.digit]! : clean.label], 'int32');
      const adversarial = await attack(spec, model, x, y, epsilon);
      y.dispose();
      const image = Array.from(await adversarial.data());
      outcomes.push({ name, clean, adversarial: await probabilities(model, adversarial), image, delta: image.map((v, i) => v - pixels[i]!) });
      adversarial.dispose();
    }
  } finally {
    x.dispose();
  }
  return outcomes;
}

/** One model's column: its adversarial image, the perturbation (scaled to ±`limit`), and both predictions. */
function modelColumn(o: Outcome, method: string, inputShape: readonly number[], limit: number, label: number | undefined): HTMLElement {
  const column = document.createElement('section');
  column.className = 'model';
  column.dataset.model = o.name;
  column.dataset.clean = String(o.clean.label);
  column.dataset.adversarial = String(o.adversarial.label);
  const flipped = o.adversarial.label !== o.clean.label;
  column.classList.toggle('flipped', flipped);
  const heading = document.createElement('h3');
  heading.textContent = o.name;
  const methodLine = document.createElement('div');
  methodLine.className = 'method';
  methodLine.textContent = method;
  const images = document.createElement('div');
  images.className = 'images';
  for (const [caption, picture] of [
    ['adversarial', imageToRgb(o.image, inputShape, 0, 1, 4)],
    [`perturbation ±${limit.toFixed(2)}`, perturbationToRgb(o.delta, inputShape, 4, limit)],
  ] as const) {
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    paint(canvas, picture);
    const text = document.createElement('figcaption');
    text.textContent = caption;
    figure.append(canvas, text);
    images.append(figure);
  }
  const l2 = Math.sqrt(o.delta.reduce((s, d) => s + d * d, 0));
  const prediction = document.createElement('div');
  prediction.className = 'pred';
  prediction.innerHTML = `
    <span>clean</span><b>${o.clean.label} · ${(100 * o.clean.confidence).toFixed(1)}%${label !== undefined && o.clean.label !== label ? ' (wrong)' : ''}</b>
    <span></span><div class="bar"><span style="width:${(100 * o.clean.confidence).toFixed(1)}%"></span></div>
    <span>attacked</span><b class="${flipped ? 'flip' : ''}">${o.adversarial.label} · ${(100 * o.adversarial.confidence).toFixed(1)}%${flipped ? ' — flipped' : ''}</b>
    <span></span><div class="bar"><span style="width:${(100 * o.adversarial.confidence).toFixed(1)}%"></span></div>
    <span>‖δ‖</span><b>L∞ ${Math.max(0, ...o.delta.map(Math.abs)).toFixed(3)} · L2 ${l2.toFixed(2)}</b>`;
  column.append(heading, methodLine, images, prediction);
  return column;
}

function render(run: LoadedRun, outcomes: Outcome[], spec: ExplorerAttack, epsilon: number, label: number | undefined): void {
  // C&W has no ε: its perturbations are scaled to the largest one shown.
  const limit = spec.name === 'cw' ? Math.max(1e-6, ...outcomes.flatMap((o) => o.delta.map(Math.abs))) : Math.max(epsilon, 1e-6);
  const method = (name: string) => run.models.find((m) => m.name === name)?.method ?? '';
  element('models').replaceChildren(...outcomes.map((o) => modelColumn(o, method(o.name), run.manifest.inputShape, limit, label)));
}

/**
 * Runs `compute` one at a time: a call while one runs schedules exactly one more, after it. The
 * body's `data-state` (computing, done, error) is what the spec waits on.
 */
function serialised(compute: () => Promise<void>): () => void {
  let running = false;
  let pending = false;
  const schedule = (): void => {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    document.body.dataset.state = 'computing';
    element('status').textContent = 'computing…';
    void compute()
      .then(() => {
        document.body.dataset.state = pending ? 'computing' : 'done';
      })
      .catch((error: unknown) => {
        document.body.dataset.state = 'error';
        element('status').textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
        console.error(error);
      })
      .finally(() => {
        running = false;
        if (pending) {
          pending = false;
          schedule();
        }
      });
  };
  return schedule;
}

async function main(): Promise<void> {
  const backend = await chooseBackend();
  const run = await loadRun();
  const { manifest, digits, size, models } = run;
  element('subtitle').textContent = `run “${manifest.name}”: ${models.length} models, ${manifest.digits.count} evaluation digits of ${manifest.digits.dataset}; computed in this page on ${backend}`;

  const state: { source: Source; attack: ExplorerAttack; epsilon: number } = { source: { digit: 0 }, attack: manifest.attacks[0]!, epsilon: 0.3 };

  const compute = async (): Promise<void> => {
    const started = performance.now();
    const { source, attack: spec, epsilon } = state;
    const pixels = 'digit' in source ? digits.slice(source.digit * size, (source.digit + 1) * size) : source.drawn;
    const outcomes = await attackEveryModel(run, source, pixels, spec, epsilon);
    const label = 'digit' in source ? manifest.digits.labels[source.digit] : undefined;
    paint(element<HTMLCanvasElement>('input'), imageToRgb(Array.from(pixels), manifest.inputShape, 0, 1, 4));
    element('input-caption').textContent = 'digit' in source ? `evaluation digit ${source.digit}, label ${label}` : 'your drawing (attacked against each model\'s own prediction)';
    document.body.dataset.source = 'digit' in source ? `digit:${source.digit}` : 'drawn';
    render(run, outcomes, spec, epsilon, label);
    // Read by the spec: the count must not grow from one computation to the next.
    document.body.dataset.tensors = String(tf.memory().numTensors);
    element('status').textContent = `${models.length} models attacked in ${Math.round(performance.now() - started)} ms on ${backend}`;
  };
  const schedule = serialised(compute);

  const padCanvas = element<HTMLCanvasElement>('pad');
  const select = (source: Source): void => {
    state.source = source;
    buttons.forEach((b, i) => b.setAttribute('aria-pressed', String('digit' in source && source.digit === i)));
    padCanvas.classList.toggle('active', 'drawn' in source);
    schedule();
  };
  const buttons = digitPicker(run, (digit) => select({ digit }));
  const drawable = manifest.inputShape.join('x') === '28x28x1';
  const pad = drawable ? new DrawingPad(padCanvas, (drawn) => select({ drawn })) : undefined;
  if (!drawable) element('draw-panel').hidden = true;
  element('clear').addEventListener('click', () => pad?.clear());

  // Attack controls.
  const attackSelect = element<HTMLSelectElement>('attack');
  for (const a of manifest.attacks) attackSelect.append(new Option(a.label, a.name));
  const slider = element<HTMLInputElement>('epsilon');
  const syncControls = (): void => {
    element('epsilon-value').textContent = state.epsilon.toFixed(2);
    slider.disabled = state.attack.name === 'cw';
  };
  attackSelect.addEventListener('change', () => {
    state.attack = manifest.attacks.find((a) => a.name === attackSelect.value)!;
    syncControls();
    schedule();
  });
  slider.addEventListener('input', () => {
    state.epsilon = Number(slider.value);
    syncControls();
    schedule();
  });

  syncControls();
  select({ digit: 0 });
}

main().catch((error: unknown) => {
  document.body.dataset.state = 'error';
  element('subtitle').textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  console.error(error);
});
