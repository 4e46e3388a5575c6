import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend, type ModuleImporter } from './backend.js';
import { ConfigError } from './errors.js';

const notInstalled = (specifier: string): Error =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /x.js`), { code: 'ERR_MODULE_NOT_FOUND' });

/** Real imports, except the listed packages, which behave as absent. */
function without(...absent: string[]): ModuleImporter {
  return async (specifier) => {
    if (absent.includes(specifier)) throw notInstalled(specifier);
    return import(specifier);
  };
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('selectBackend', () => {
  it('falls back from tfjs-node-gpu and tfjs-node (absent here) to wasm, recording why', async () => {
    const info = await selectBackend('auto', without('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tempered/wasm-train'));
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.fallbacks[0]).toBe('@tensorflow/tfjs-node-gpu: not installed');
    expect(info.fallbacks[1]).toBe('@tensorflow/tfjs-node: not installed');
    expect(info.fallbacks.join('\n')).toMatch(/@tempered\/wasm-train: not installed/);
  });

  it('falls back to cpu when wasm is unavailable too', async () => {
    const info = await selectBackend('auto', without('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm'));
    expect(info).toMatchObject({ name: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(info.fallbacks).toHaveLength(3);
  });

  it('reports a tfjs-node that fails to load (e.g. missing CUDA libraries) and moves on', async () => {
    const importer: ModuleImporter = async (specifier) => {
      if (specifier === '@tensorflow/tfjs-node-gpu') throw new Error('libcudart.so.11.0: cannot open shared object file\n  at ...');
      if (specifier.startsWith('@tensorflow/tfjs-node') || specifier === '@tensorflow/tfjs-backend-wasm') throw notInstalled(specifier);
      return import(specifier);
    };
    const info = await selectBackend('auto', importer);
    expect(info.name).toBe('cpu');
    expect(info.fallbacks[0]).toBe('@tensorflow/tfjs-node-gpu: libcudart.so.11.0: cannot open shared object file');
  });

  it('throws a one-line ConfigError when an explicit choice cannot load', async () => {
    await expect(selectBackend('tensorflow', without('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'))).rejects.toThrow(ConfigError);
    await expect(selectBackend('tensorflow', without('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'))).rejects.toThrow(
      /^backend: "tensorflow" needs @tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu/,
    );
    await expect(selectBackend('gpu' as never)).rejects.toThrow('backend: expected one of auto, tensorflow, wasm, cpu, got "gpu"');
    expect((await selectBackend('cpu')).name).toBe('cpu');
  });
});
