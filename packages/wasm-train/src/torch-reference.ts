import { execFileSync } from 'node:child_process';

/** Medians from the PyTorch run of the same Papernot CNN, batch and step as `benchPapernotCnn`. */
export interface TorchReference {
  trainStepMs: number;
  forwardMs: number;
  inputGradMs: number;
  /** The same medians in process CPU time, comparable with `BenchResult.cpuMs`. */
  cpuMs: { trainStep: number; forward: number; inputGrad: number };
  torchVersion: string;
  python: string;
}

// Same model, loss, optimizer and measurements as bench.ts, on one thread.
const script = String.raw`
import json, sys, time, statistics
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.set_num_threads(1)
batch, iterations, warmup = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(1024, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.rand(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))
def train_step():
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
def forward():
    with torch.no_grad():
        model(x)
def input_grad():
    xi = x.clone().requires_grad_(True)
    torch.autograd.grad(F.cross_entropy(model(xi), y), xi)
def median_ms(fn):
    wall, cpu = [], []
    for i in range(warmup + iterations):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        if i >= warmup:
            wall.append((time.perf_counter() - wall_start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
    return statistics.median(wall), statistics.median(cpu)
train, fwd, grad = median_ms(train_step), median_ms(forward), median_ms(input_grad)
print(json.dumps({"trainStepMs": train[0], "forwardMs": fwd[0], "inputGradMs": grad[0],
                  "cpuMs": {"trainStep": train[1], "forward": fwd[1], "inputGrad": grad[1]},
                  "torchVersion": torch.__version__}))
`;

/** The first of `python3` (PATH) and `/usr/bin/python3` that can `import torch`, or null. */
export function findTorchPython(): string | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      return python;
    } catch {
      // Not installed here, or no torch: try the next interpreter.
    }
  }
  return null;
}

/**
 * Times the Papernot MNIST CNN in PyTorch on CPU with `torch.set_num_threads(1)`, when a python with
 * torch is available (never required); otherwise resolves to null.
 *
 * @param options.batch images per step, default 128; `iterations` (default 10) and `warmup` (default 2)
 *   as in `benchPapernotCnn`.
 * @example
 * ```ts
 * const torch = torchReference({ batch: 128 });
 * if (torch) console.log(wasm.trainStepMs / torch.trainStepMs);
 * ```
 */
export function torchReference(options: { batch?: number; iterations?: number; warmup?: number } = {}): TorchReference | null {
  const python = findTorchPython();
  if (python === null) return null;
  const { batch = 128, iterations = 10, warmup = 2 } = options;
  const output = execFileSync(python, ['-c', script, String(batch), String(iterations), String(warmup)], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  const lastLine = output.trim().split('\n').at(-1) ?? '';
  return { ...(JSON.parse(lastLine) as Omit<TorchReference, 'python'>), python };
}
