import * as tf from '@tensorflow/tfjs';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ConfigError, RegistryError, Rng, TOKENS, attackTraits, createPlugin, getPlugin, listPlugins, paramsJsonSchema, type Attack } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { register } from './register.js';
import { predict, tinyCnn } from './spec-fixtures.js';

function freshContainer() {
  const container = rootContainer.createChildContainer();
  register(container);
  return container;
}


describe('registered attacks', () => {
  it('registers every attack by name with parameter specs; registering twice throws', () => {
    const container = freshContainer();
    expect(listPlugins(container, TOKENS.Attack)).toEqual(['apgd', 'autoattack', 'cw', 'fab', 'fgsm', 'jsma', 'pgd', 'square']);
    for (const name of listPlugins(container, TOKENS.Attack)) {
      const descriptor = getPlugin(container, TOKENS.Attack, name);
      expect(descriptor.params).toBeDefined();
      const schema = paramsJsonSchema(descriptor.params!);
      expect(schema.additionalProperties).toBe(false);
      const attack = createPlugin(container, TOKENS.Attack, name);
      expect(Object.keys(attack.params()).sort()).toEqual(Object.keys(descriptor.params!).sort());
    }
    expect(() => register(container)).toThrow(RegistryError);
  });

  it('every registered attack declares consistent traits: a default mode it supports, a margin twin its params accept', () => {
    const container = freshContainer();
    const declared: Record<string, unknown> = {};
    for (const name of listPlugins(container, TOKENS.Attack)) {
      const attack = createPlugin(container, TOKENS.Attack, name);
      const traits = attackTraits(attack);
      expect(attack.supportedModes, name).toContain(traits.defaultMode);
      // A black-box attack needs no input gradient, and one that needs none is black-box.
      expect(traits.blackBox, name).toBe(!attack.requires.includes('inputGradients'));
      const twin = traits.marginTwin?.(attack.params());
      if (twin) expect(() => createPlugin(container, TOKENS.Attack, name, twin), name).not.toThrow();
      declared[name] = { mode: traits.defaultMode, blackBox: traits.blackBox, minimumDistortion: traits.minimumDistortion, singleStep: traits.singleStep, ensemble: traits.ensemble, twin: twin !== undefined };
    }
    // What the engine used to infer from these names, now each attack's own declaration.
    expect(declared).toMatchObject({
      jsma: { mode: 'targeted', minimumDistortion: true },
      cw: { mode: 'untargeted', minimumDistortion: true },
      square: { blackBox: true },
      fgsm: { singleStep: true },
      autoattack: { ensemble: true, blackBox: false },
      pgd: { twin: false }, // params() reports loss 'ce' explicitly: no twin for a configured loss
      apgd: { blackBox: false, minimumDistortion: false, twin: false },
    });
    // PGD configured without a loss gets its margin twin.
    expect(attackTraits(createPlugin(container, TOKENS.Attack, 'pgd')).marginTwin?.({ epsilon: 0.3 })).toEqual({ epsilon: 0.3, loss: 'margin' });
  });

  it('passes params through the container and validates them (ART style)', () => {
    const container = freshContainer();
    const attack = createPlugin(container, TOKENS.Attack, 'pgd', { epsilon: 0.1, steps: 7 });
    expect(attack.params()).toMatchObject({ epsilon: 0.1, steps: 7 });
    expect(attack.epsilon).toBe(0.1);
    attack.setParams({ norm: 'l2', epsilon: 2 });
    expect(attack.norm).toBe('l2');
    expect(attack.params()).toMatchObject({ norm: 'l2', epsilon: 2, steps: 7 });
    expect(() => attack.setParams({ epsilon: -1 })).toThrow(/pgd\.epsilon: expected ≥ 0/);
    expect(() => attack.setParams({ steps: 0 })).toThrow(/pgd\.steps/);
    expect(() => attack.setParams({ stepsize: 1 })).toThrow(/pgd\.stepsize: unknown parameter/);
    expect(attack.params()).toMatchObject({ epsilon: 2, steps: 7 }); // a rejected update changes nothing
    expect(() => createPlugin(container, TOKENS.Attack, 'fgsm', { epsilon: 'big' })).toThrow(ConfigError);
    expect(() => createPlugin(container, TOKENS.Attack, 'cw', { binarySearchSteps: 1.5 })).toThrow(/cw\.binarySearchSteps: expected an integer/);
    expect(() => createPlugin(container, TOKENS.Attack, 'jsma', { gamma: 0 })).toThrow(/jsma\.gamma/);
  });

  it('every registered attack runs in every supported mode on a small CNN: shape, bounds, budget, no leaks', async () => {
    const container = freshContainer();
    const model = tinyCnn(3);
    const rng = new Rng(4);
    const x = tf.tensor4d(rng.uniformArray(4 * 36, 0, 1), [4, 6, 6, 1]);
    const labels = predict(model, x);
    const y = tf.tensor1d(labels, 'int32');
    const targets = tf.tensor1d(Array.from(labels, (l) => (l + 1) % 3), 'int32');
    const names = listPlugins(container, TOKENS.Attack);
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const attack: Attack = createPlugin(container, TOKENS.Attack, name); // defaults
      expect(attack.requires).toContain('logits');
      for (const mode of attack.supportedModes) {
        await expectNoLeaks(async () => {
          const { adversarial, iterations } = await attack.run(model, x, y, { mode, targets: mode === 'targeted' ? targets : undefined });
          expect(adversarial.shape).toEqual(x.shape);
          expect(iterations.length).toBe(4);
          const [lo, hi, linf, l2] = tf.tidy(() => {
            const delta = tf.reshape(tf.sub(adversarial, x), [4, -1]);
            return [tf.min(adversarial), tf.max(adversarial), tf.max(tf.abs(delta)), tf.max(tf.norm(delta, 2, 1))].map((t) => t.dataSync()[0]!);
          });
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(hi).toBeLessThanOrEqual(1);
          if (attack.norm === 'linf') expect(linf).toBeLessThanOrEqual(attack.epsilon + 1e-5);
          if (attack.norm === 'l2') expect(l2).toBeLessThanOrEqual(attack.epsilon * (1 + 1e-5));
          adversarial.dispose();
        }, `${name} (${mode})`);
      }
      const unsupported = (['untargeted', 'targeted'] as const).filter((m) => !attack.supportedModes.includes(m));
      for (const mode of unsupported) await expect(attack.generate(model, x, y, { mode, targets })).rejects.toThrow(ConfigError);
    }
    tf.dispose([x, y, targets]);
    model.dispose();
  });
});
