/**
 * Evaluation worker thread: selects its own backend, imports the plugin modules it is given and
 * calls their `register(container)`, loads models from layers-format artifacts, and runs attack
 * jobs on its share of the examples. Runs as built JS (dist/worker.js).
 */
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { parentPort } from 'node:worker_threads';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { LayersStudent, selectBackend, type Model } from '@tempered/core';
import { runAttackBatches } from './attack-batches.js';
import type { WorkerRequest, WorkerResponse } from './pool.js';

const port = parentPort;
// `tempered run --quiet` (TEMPERED_QUIET): no tfjs banner from this thread.
if (process.env.TEMPERED_QUIET) tf.env().set('PROD', true);
if (!port) throw new Error('@tempered/evaluation worker.js must run in a worker thread');

let scope: DependencyContainer | undefined;
const models = new Map<string, Model>();

function send(message: WorkerResponse, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

async function handle(message: WorkerRequest): Promise<void> {
  switch (message.type) {
    case 'init': {
      const backend = await selectBackend(message.backend);
      scope = rootContainer.createChildContainer();
      for (const specifier of message.plugins) {
        const plugin = (await import(specifier)) as { register?: (container: DependencyContainer) => void };
        if (typeof plugin.register !== 'function') throw new Error(`plugin module "${specifier}" exports no register(container)`);
        plugin.register(scope);
      }
      send({ type: 'ready', backend: backend.name, source: backend.source });
      return;
    }
    case 'model': {
      const { model } = message;
      const layersModel = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: model.weightSpecs, weightData: model.weightData }),
      );
      models.get(message.modelId)?.dispose();
      models.set(message.modelId, new LayersStudent(layersModel, { name: model.name, bounds: model.bounds }));
      send({ type: 'done', id: message.id });
      return;
    }
    case 'attack': {
      const model = models.get(message.modelId);
      if (!model || !scope) throw new Error(`worker has no model "${message.modelId}"`);
      const outputs = await runAttackBatches(model, scope, message.job, message.slice, message.batches);
      send({ type: 'done', id: message.id, outputs }, outputs.map((o) => o.adversarial.buffer as ArrayBuffer));
      return;
    }
  }
}

// Requests are handled one at a time, in arrival order.
let queue = Promise.resolve();
port.on('message', (message: WorkerRequest) => {
  queue = queue.then(() =>
    handle(message).catch((error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      send({ type: 'error', ...('id' in message ? { id: message.id } : {}), message: text });
    }),
  );
});
