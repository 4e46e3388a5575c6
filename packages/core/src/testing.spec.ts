import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks } from './testing.js';

describe('expectNoLeaks', () => {
  it('passes when tensors are disposed and fails naming the count when they are not', async () => {
    await expect(expectNoLeaks(() => tf.tidy(() => tf.add(tf.ones([2]), 1).sum().dataSync()))).resolves.toBeDefined();
    let leaked: tf.Tensor[] = [];
    await expect(
      expectNoLeaks(() => {
        leaked = [tf.ones([2]), tf.zeros([3])];
      }, 'sloppy step'),
    ).rejects.toThrow(/sloppy step leaked 2 tensor\(s\)/);
    tf.dispose(leaked);
  });
});

describe('testContainer', () => {
  it('is a fresh child per call: what one spec registers is invisible to another and to the root', async () => {
    const { TOKENS, factoryPlugin, listPlugins, registerPlugin } = await import('./index.js');
    const { testContainer } = await import('./testing.js');
    const { container: root } = await import('tsyringe');
    const register = (c: Parameters<typeof registerPlugin>[0]) => registerPlugin(c, TOKENS.Metric, factoryPlugin('spec-only', () => ({})));
    const mine = testContainer(register);
    expect(listPlugins(mine, TOKENS.Metric)).toContain('spec-only');
    expect(listPlugins(testContainer(), TOKENS.Metric)).not.toContain('spec-only');
    expect(listPlugins(root, TOKENS.Metric)).not.toContain('spec-only');
    // Registering the same name in a second fresh container is no clash.
    expect(() => testContainer(register)).not.toThrow();
  });
});
