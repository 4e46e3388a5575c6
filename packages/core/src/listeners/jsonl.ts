import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TrainerEventMap, TrainerEventName, TrainerEvents, TrainerPlugin } from '../events.js';
import { oneLineError } from '../errors.js';

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

/** A JSON-safe view of an event: object references (method, phase) become names. */
export function eventRecord<E extends TrainerEventName>(event: E, payload: TrainerEventMap[E]): Record<string, unknown> {
  const out: Record<string, unknown> = { event, time: new Date().toISOString() };
  for (const [key, value] of Object.entries(payload as unknown as Record<string, unknown>)) {
    if (key === 'method') out.method = (value as { name: string }).name;
    else if (key === 'phase' && typeof value === 'object' && value !== null) out.phase = (value as { name: string }).name;
    else if (key === 'error') out.error = oneLineError(value);
    else out[key] = value;
  }
  return out;
}

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
