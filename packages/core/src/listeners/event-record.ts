import type { TrainerEventMap, TrainerEventName } from '../events.js';
import { oneLineError } from '../errors.js';

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
