import * as tf from '@tensorflow/tfjs';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asTeacher, layersModelOf, modelView, type Model } from '@tempered/core';
import { loadLayersModel, saveLayersModel } from '@tempered/core/node';
import { toModel, trainingModeView } from '@tempered/attacks';
import { expectNoLeaks } from '../../core/src/testing.js';
import { serializeModel } from './pool.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';

/**
 * Every way the framework re-bounds or re-modes a model is a view that keeps `toLayersModel`: a
 * model passed through them (and through each other) can still be saved as model.json and
 * serialised for an evaluation worker, and what comes back computes the original's logits.
 */
const VIEWS: Record<string, (model: Model) => Model> = {
  'toModel with other bounds': (m) => toModel(m, { bounds: { min: -1, max: 2 } }),
  'trainingModeView': (m) => trainingModeView(m),
  'asTeacher of a view': (m) => asTeacher(modelView(m, { bounds: { min: 0, max: 255 } })),
  'modelView of a view of a view': (m) => modelView(trainingModeView(toModel(m, { bounds: { min: -1, max: 1 } }))),
};

describe('model views keep toLayersModel', () => {
  it.each(Object.keys(VIEWS))('%s: saves, loads and serialises for a worker to the same logits', async (name) => {
    const student = fixtureModel('viewed');
    const { x, labels } = fixtureDataset(6).batch([0, 1, 2, 3, 4, 5]);
    const dir = await mkdtemp(join(tmpdir(), 'tempered-views-'));
    try {
      await expectNoLeaks(async () => {
        const view = VIEWS[name]!(student);
        expect(layersModelOf(view, 'saved')).toBe(student.layersModel);
        const logits = student.logits(x, { training: false });
        const expected = await logits.array();
        logits.dispose();

        await saveLayersModel(layersModelOf(view, 'saved'), join(dir, 'model'));
        const loaded = await loadLayersModel(join(dir, 'model'));
        const fromFile = tf.tidy(() => loaded.predict(x) as tf.Tensor);
        expect(await fromFile.array()).toEqual(expected);
        tf.dispose([fromFile]);
        loaded.dispose();

        const serialised = await serializeModel(view);
        expect(serialised.bounds).toEqual(view.bounds);
        const inWorker = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: serialised.modelTopology, weightSpecs: serialised.weightSpecs, weightData: serialised.weightData }));
        const fromWorker = tf.tidy(() => inWorker.predict(x) as tf.Tensor);
        expect(await fromWorker.array()).toEqual(expected);
        tf.dispose([fromWorker]);
        inWorker.dispose();
      });
    } finally {
      student.dispose();
      tf.dispose([x, labels]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a logits function has no LayersModel: saving it is refused naming the model', () => {
    const fn = toModel((x) => tf.reshape(x, [-1, 16]).slice([0, 0], [-1, 3]) as tf.Tensor2D, { numClasses: 3, inputShape: [4, 4, 1], name: 'fn' });
    expect(() => layersModelOf(modelView(fn, { bounds: { min: 0, max: 2 } }), 'saved')).toThrow(/model "fn": cannot be saved/);
  });
});
