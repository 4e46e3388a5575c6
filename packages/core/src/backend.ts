import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** tfjs backend name actually in use: 'tensorflow', 'wasm' or 'cpu'. */
  readonly name: string;
  /** Where it came from, e.g. '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm + @tempered/wasm-train'. */
  readonly source: string;
  /** What was tried and why it was passed over, in order. */
  readonly fallbacks: readonly string[];
}

/** Module loader, replaceable in specs to simulate absent or failing packages. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

// A variable specifier keeps bundlers and tsc from resolving optional packages at build time.
const defaultImporter: ModuleImporter = (specifier) => import(specifier);

async function tryTensorflow(importer: ModuleImporter, fallbacks: string[]): Promise<BackendInfo | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importer(pkg);
      if (tf.findBackend('tensorflow') && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return { name: 'tensorflow', source: pkg, fallbacks };
      }
      fallbacks.push(`${pkg}: loaded but registered no "tensorflow" backend`);
    } catch (error) {
      fallbacks.push(`${pkg}: ${describeImportError(error)}`);
    }
  }
  return undefined;
}

async function tryWasm(importer: ModuleImporter, fallbacks: string[]): Promise<BackendInfo | undefined> {
  try {
    await importer('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    fallbacks.push(`@tensorflow/tfjs-backend-wasm: ${describeImportError(error)}`);
    return undefined;
  }
  let source = '@tensorflow/tfjs-backend-wasm';
  try {
    const trainer = (await importer('@tempered/wasm-train')) as { registerWasmTrainingKernels?: () => unknown };
    trainer.registerWasmTrainingKernels?.();
    source += ' + @tempered/wasm-train';
  } catch (error) {
    fallbacks.push(`@tempered/wasm-train: ${describeImportError(error)} (wasm cannot train conv nets without it)`);
  }
  try {
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return { name: 'wasm', source, fallbacks };
    }
    fallbacks.push('wasm: backend failed to initialise');
  } catch (error) {
    fallbacks.push(`wasm: ${describeImportError(error)}`);
  }
  return undefined;
}

function describeImportError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(message)) return 'not installed';
  return message.split('\n')[0]!;
}

/**
 * Selects the tfjs backend. `auto` tries `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`
 * (both loaded dynamically, never installed by `npm ci`: they download libtensorflow at install
 * time; tfjs-node-gpu 4.x needs CUDA 11.2 and cuDNN 8.1), then wasm with @tempered/wasm-train's
 * training kernels, then the pure-JS cpu backend. An explicit choice that cannot load throws.
 */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  importer: ModuleImporter = defaultImporter,
): Promise<BackendInfo> {
  if (!BACKEND_PREFERENCES.includes(preference)) {
    throw new ConfigError('backend', `expected one of ${BACKEND_PREFERENCES.join(', ')}, got ${JSON.stringify(preference)}`);
  }
  const fallbacks: string[] = [];
  if (preference === 'auto' || preference === 'tensorflow') {
    const info = await tryTensorflow(importer, fallbacks);
    if (info) return info;
    if (preference === 'tensorflow') {
      throw new ConfigError('backend', `"tensorflow" needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (${fallbacks.join('; ')})`);
    }
  }
  if (preference === 'auto' || preference === 'wasm') {
    const info = await tryWasm(importer, fallbacks);
    if (info) return info;
    if (preference === 'wasm') throw new ConfigError('backend', `"wasm" could not be loaded (${fallbacks.join('; ')})`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', source: '@tensorflow/tfjs-backend-cpu', fallbacks };
}
