import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@tempered/core';
import { startExplorer } from './server.js';

export const DEFAULT_EXPLORER_PORT = 8018;

function integerOption(field: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(field, `expected an integer in [${min}, ${max}], got "${value}"`);
  return n;
}

/** `tempered explore <dir>`: serves until SIGINT/SIGTERM, then exits 0. */
export async function exploreCommand(dir: string, values: Record<string, string | undefined>, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const port = integerOption('--port', values.port, DEFAULT_EXPLORER_PORT, 0, 65535);
  const digits = integerOption('--digits', values.digits, 30, 1, 1000);
  // Node only gathers the digits' pixels; every model runs in the page.
  await tf.setBackend('cpu');
  const explorer = await startExplorer(dir, { port, digits });
  const { manifest } = explorer.run;
  io.err(`exploring ${explorer.run.dir}: ${manifest.models.map((m) => m.name).join(', ')} on ${manifest.digits.count} digits`);
  io.out(`Tempered explorer: ${explorer.url}`);
  io.err('press Ctrl+C to stop');
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await explorer.close();
  return 0;
}
