import * as tf from '@tensorflow/tfjs';

/**
 * Test helpers (imported from `@tempered/core/testing`). Every spec that touches tensors uses
 * {@link expectNoLeaks}: `tf.memory().numTensors` must return to its baseline.
 */

/** Runs `fn` (sync or async) and throws if it leaves tensors behind. Returns fn's result. */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>, label = 'operation'): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`${label} leaked ${after - before} tensor(s): numTensors ${before} → ${after}`);
  }
  return result;
}

/** Switches to a backend for a spec and returns a function that restores the previous one. */
export async function useBackend(name: string): Promise<() => Promise<void>> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  await tf.ready();
  return async () => {
    if (previous) {
      await tf.setBackend(previous);
      await tf.ready();
    }
  };
}

/**
 * Makes sure a Debian package a spec needs is installed, installing it with apt when it is not
 * (running `apt-get update` first on a machine without package lists). `present` says whether
 * the package's files are already there. Throws one line naming the package when apt fails, so a
 * missing dependency fails the spec instead of skipping it.
 */
export async function ensureAptPackage(pkg: string, present: () => boolean, why: string): Promise<void> {
  if (present()) return;
  const { spawnSync } = await import('node:child_process');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Specs run in parallel, so another one may hold the dpkg lock: wait for it instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const install = () => spawnSync('apt-get', [...lock, 'install', '-y', '--no-install-recommends', pkg], { encoding: 'utf8', env });
  let result = install();
  if (result.status !== 0) {
    spawnSync('apt-get', [...lock, 'update'], { encoding: 'utf8', env });
    result = install();
  }
  if (result.status !== 0 || !present()) {
    const tail = `${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim().split('\n').slice(-3).join(' ');
    throw new Error(`${why} needs the Debian package ${pkg}, and \`apt-get install -y ${pkg}\` failed: ${tail}`);
  }
}
