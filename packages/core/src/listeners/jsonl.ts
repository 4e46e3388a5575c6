import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrainerEventMap, TrainerEventName, TrainerEvents, TrainerPlugin } from '../events.js';
import { eventRecord } from './event-record.js';

const LOGGED: TrainerEventName[] = [
  'run:start',
  'run:end',
  'phase:start',
  'phase:end',
  'epoch:end',
  'evaluation',
  'checkpoint',
  'warning',
  'error',
];

/**
 * Appends one JSON object per event to a `.jsonl` file (append-only, so a crash loses at most
 * the line being written). Every `epoch:end` line carries model, epoch, loss, terms, accuracy
 * and numTensors.
 */
export class JsonlLogger implements TrainerPlugin {
  constructor(
    private readonly path: string,
    private readonly events: readonly TrainerEventName[] = LOGGED,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Appends an arbitrary record (e.g. evaluation results from outside the trainer). */
  write(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  attach(trainer: TrainerEvents): void {
    for (const name of this.events) {
      trainer.on(name, (payload) => this.write(eventRecord(name, payload as TrainerEventMap[typeof name])));
    }
  }
}
