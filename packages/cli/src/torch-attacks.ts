import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IterationTimings } from '@tempered/attacks';
import { findTorchPython } from '@tempered/wasm-train/node';

/** Raw timings of the PyTorch versions of the three attack loops, on the same weights and batch. */
export interface TorchAttackCosts {
  apgd: IterationTimings;
  fab: IterationTimings;
  square: IterationTimings;
  /** max |Z_torch − Z_tfjs| over the batch's logits: the two models are the same function. */
  maxLogitDifference: number;
  torchVersion: string;
}

// One thread; the Papernot MNIST CNN rebuilt in NCHW from the tfjs weights (NHWC kernels permuted,
// the first dense layer's rows reordered from HWC to CHW flattening). Each loop does the work of one
// iteration of the TypeScript attack: APGD-CE (forward + backward, momentum step, projection, best
// point), FAB-T (the target's linearised boundary, the L∞ box projection of x⁽ᵏ⁾ and x, the biased
// step, a forward to test it, the backward step), Square L∞ (one random square per example, a forward,
// keep improvements).
const script = String.raw`
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_num_threads(1)
torch.manual_seed(0)
meta = json.loads(open(sys.argv[1]).read())
flat = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
iterations, warmup = meta['iterations'], meta['warmup']
offset = 0
def take(shape):
    global offset
    n = 1
    for s in shape: n *= s
    t = flat[offset:offset + n].clone().reshape(shape)
    offset += n
    return t
model = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(1024, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
with torch.no_grad():
    for index, (layer, (kernel_shape, bias_shape)) in enumerate(zip(layers, meta['weights'])):
        kernel, bias = take(kernel_shape), take(bias_shape)
        if isinstance(layer, nn.Conv2d):
            layer.weight.copy_(kernel.permute(3, 2, 0, 1))
        elif index == 4:
            layer.weight.copy_(kernel.reshape(4, 4, 64, 200).permute(2, 0, 1, 3).reshape(1024, 200).t())
        else:
            layer.weight.copy_(kernel.t())
        layer.bias.copy_(bias)
batch = meta['batch']
x = take([batch, 28, 28, 1]).permute(0, 3, 1, 2).contiguous()
y = take([batch]).long()
reference_logits = take([batch, 10])
model.eval()
for p in model.parameters(): p.requires_grad_(False)
with torch.no_grad():
    difference = (model(x) - reference_logits).abs().max().item()
eps = meta['epsilon']
rows = torch.arange(batch)

def apgd(n):
    step = torch.full((batch, 1, 1, 1), 2 * eps)
    x_adv = (x + eps * torch.sign(torch.rand_like(x) * 2 - 1)).clamp(0, 1)
    x_prev = x_adv.clone()
    best_loss = torch.full((batch,), -float('inf'))
    x_best = x_adv.clone()
    xi = x_adv.clone().requires_grad_(True)
    loss = F.cross_entropy(model(xi), y, reduction='none')
    grad, = torch.autograd.grad(loss.sum(), xi)
    for i in range(n):
        z = torch.min(torch.max(x_adv + step * grad.sign(), x - eps), x + eps).clamp(0, 1)
        a = 0.75 if i > 0 else 1.0
        moved = x_adv + a * (z - x_adv) + (1 - a) * (x_adv - x_prev)
        x_prev, x_adv = x_adv, torch.min(torch.max(moved, x - eps), x + eps).clamp(0, 1)
        xi = x_adv.clone().requires_grad_(True)
        logits = model(xi)
        loss = F.cross_entropy(logits, y, reduction='none')
        grad, = torch.autograd.grad(loss.sum(), xi)
        with torch.no_grad():
            improved = loss > best_loss
            best_loss = torch.where(improved, loss, best_loss)
            x_best[improved] = x_adv[improved]
            fooled = logits.argmax(1) != y

def project_linf(p, w, rhs):
    c = (w * p).sum(1) - rhs
    up = torch.where((c >= 0)[:, None], w < 0, w > 0)
    room = torch.where(up, 1 - p, p) * (w != 0)
    breakpoints, order = room.sort(1)
    slopes = w.abs().gather(1, order)
    saturated = torch.cumsum(slopes * breakpoints, 1) - slopes * breakpoints
    rising = slopes.sum(1, keepdim=True) - torch.cumsum(slopes, 1) + slopes
    reach = saturated + breakpoints * rising
    need = c.abs()[:, None]
    k = (reach < need).sum(1, keepdim=True).clamp(max=p.shape[1] - 1)
    radius = (need - saturated.gather(1, k)) / rising.gather(1, k).clamp_min(1e-12)
    radius = torch.where(reach[:, -1:] < need, torch.full_like(radius, float('inf')), radius)
    step = torch.minimum(radius, room)
    return torch.where(up, step, -step)

with torch.no_grad():
    target = model(x).sort(1, descending=True)[1][:, 1]

def fab(n):
    x0 = x.reshape(batch, -1)
    x1 = x0.clone()
    best = x0.clone()
    best_norm = torch.full((batch,), float('inf'))
    for i in range(n):
        xi = x1.reshape(batch, 1, 28, 28).clone().requires_grad_(True)
        logits = model(xi)
        f = logits[rows, target] - logits[rows, y]
        w, = torch.autograd.grad(f.sum(), xi)
        with torch.no_grad():
            w = w.reshape(batch, -1)
            rhs = (w * x1).sum(1) - f
            d = project_linf(torch.cat((x1, x0)), torch.cat((w, w)), torch.cat((rhs, rhs)))
            d1, d2 = d[:batch], d[batch:]
            a1 = d1.abs().amax(1).clamp_min(1e-8)
            a2 = d2.abs().amax(1).clamp_min(1e-8)
            alpha = (a1 / (a1 + a2)).clamp(0, 0.1)[:, None]
            x1 = ((x1 + 1.05 * d1) * (1 - alpha) + (x0 + 1.05 * d2) * alpha).clamp(0, 1)
            adversarial = model(x1.reshape(batch, 1, 28, 28)).argmax(1) != y
            size = (x1 - x0).abs().amax(1)
            better = adversarial & (size < best_norm)
            best[better] = x1[better]
            best_norm = torch.where(better, size, best_norm)
            x1 = torch.where(adversarial[:, None], x0 + 0.9 * (x1 - x0), x1)

def margin(logits):
    own = logits[rows, y]
    other = logits.clone()
    other[rows, y] = -float('inf')
    return own - other.max(1)[0]

def square(n):
    with torch.no_grad():
        side = 25
        best = (x + eps * torch.sign(torch.rand(batch, 1, 1, 28) * 2 - 1)).clamp(0, 1)
        best_loss = margin(model(best))
        grid = torch.arange(28)
        for i in range(n):
            top = torch.randint(0, 28 - side + 1, (batch, 1))
            left = torch.randint(0, 28 - side + 1, (batch, 1))
            inside = ((grid >= top) & (grid < top + side))[:, :, None] & ((grid >= left) & (grid < left + side))[:, None, :]
            sign = torch.sign(torch.rand(batch, 1, 1) * 2 - 1)
            candidate = torch.where(inside[:, None], (x + eps * sign[:, None]).clamp(0, 1), best)
            loss = margin(model(candidate))
            improved = loss < best_loss
            best_loss = torch.where(improved, loss, best_loss)
            best = torch.where(improved[:, None, None, None], candidate, best)

def timings(run):
    run(1)
    best = {'shortMs': float('inf'), 'longMs': float('inf'), 'shortCpuMs': float('inf'), 'longCpuMs': float('inf')}
    for _ in range(warmup + 1):
        for key, count in (('short', iterations), ('long', 2 * iterations)):
            start, start_cpu = time.perf_counter(), time.process_time()
            run(count)
            best[key + 'Ms'] = min(best[key + 'Ms'], (time.perf_counter() - start) * 1000)
            best[key + 'CpuMs'] = min(best[key + 'CpuMs'], (time.process_time() - start_cpu) * 1000)
    return best

print(json.dumps({'apgd': timings(apgd), 'fab': timings(fab), 'square': timings(square),
                  'maxLogitDifference': difference, 'torchVersion': torch.__version__}))
`;

/** The weights (tfjs order: kernel, bias per layer), the batch and the tfjs logits of it. */
export interface TorchAttackInputs {
  readonly weights: ReadonlyArray<{ shape: readonly number[]; values: Float32Array }>;
  /** NHWC [batch, 28, 28, 1]. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  /** [batch, 10], to check the rebuilt model is the same function. */
  readonly logits: Float32Array;
  readonly batch: number;
  readonly epsilon: number;
  readonly iterations: number;
}

/**
 * Times APGD-CE, FAB-T and Square (L∞) loops of `iterations` and 2 × `iterations` steps in PyTorch
 * on CPU with one thread, on the given Papernot MNIST CNN weights and batch (as
 * `attackIterationCosts` does in tfjs), when a python with torch is available; else null.
 *
 * @example
 * const torch = torchAttackCosts({ weights, x, labels, logits, batch: 128, epsilon: 0.3, iterations: 10 });
 */
export function torchAttackCosts(inputs: TorchAttackInputs): TorchAttackCosts | null {
  const python = findTorchPython();
  if (python === null) return null;
  const dir = mkdtempSync(join(tmpdir(), 'tempered-torch-'));
  try {
    const parts = [...inputs.weights.map((w) => w.values), inputs.x, Float32Array.from(inputs.labels), inputs.logits];
    const total = parts.reduce((n, p) => n + p.length, 0);
    const flat = new Float32Array(total);
    let offset = 0;
    for (const part of parts) {
      flat.set(part, offset);
      offset += part.length;
    }
    const weights = [];
    for (let i = 0; i < inputs.weights.length; i += 2) weights.push([inputs.weights[i]!.shape, inputs.weights[i + 1]!.shape]);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ weights, batch: inputs.batch, epsilon: inputs.epsilon, iterations: inputs.iterations, warmup: 1 }));
    writeFileSync(join(dir, 'data.bin'), Buffer.from(flat.buffer));
    const output = execFileSync(python, ['-c', script, join(dir, 'meta.json'), join(dir, 'data.bin')], {
      encoding: 'utf8',
      timeout: 900_000,
      env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    });
    return JSON.parse(output.trim().split('\n').at(-1) ?? '') as TorchAttackCosts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
