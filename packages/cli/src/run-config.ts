import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { selectBackend, writeJsonAtomic } from '@tempered/core/node';
import { mergeResults, parseResults, renderReports } from '@tempered/reports/node';
import type { RunConfig } from './config.js';
import { checkOutputDir, preflight, runContainer, runSeed, type RunOptions } from './run.js';

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs a config: checks everything first (plugins, params, output directory), selects the
 * backend, then runs each seed. Several seeds run into DIR/seed-<n>/ and DIR gets the merged
 * results (mean ± std). Returns the process exit code.
 */
export async function runConfig(config: RunConfig, options: RunOptions): Promise<number> {
  const seeds = options.seed !== undefined ? [options.seed] : config.seeds;
  const effective: RunConfig = { ...config, seeds, backend: options.backend ?? config.backend };
  const { container, pluginModules } = await runContainer(effective, options.baseDir);
  preflight(container, effective);
  if (seeds.length > 1) checkOutputDir(options.out, options.resume, options.force);
  else checkOutputDir(options.out, options.resume, options.force);

  const backend = await selectBackend(effective.backend);
  // Said once the inputs have been checked, so that a refusal stays a single line.
  let announced = false;
  const announce = (): void => {
    if (!announced) options.log(`backend: ${backend.name} (${backend.source})${backend.fallbacks.length ? `; passed over: ${backend.fallbacks.join('; ')}` : ''}`);
    announced = true;
  };

  const resultPaths: string[] = [];
  for (const seed of seeds) {
    const out = seeds.length > 1 ? join(options.out, `seed-${seed}`) : options.out;
    if (seeds.length > 1) options.log(`seed ${seed} → ${out}`);
    const result = await runSeed(effective, seed, { ...options, out, force: options.force || (seeds.length > 1 && !options.resume) }, backend, container, pluginModules, announce);
    if (result.stopped) {
      options.log(`stopped${result.signal ? ` by ${result.signal}` : ''}; continue with --resume`);
      return SIGNAL_EXIT[result.signal ?? ''] ?? 130;
    }
    resultPaths.push(result.resultsPath!);
  }
  if (seeds.length > 1) {
    const merged = mergeResults(resultPaths.map((p) => parseResults(JSON.parse(readFileSync(p, 'utf8')), p)));
    writeJsonAtomic(join(options.out, 'results.json'), merged);
    renderReports(options.out);
  }
  options.log(`done: ${join(options.out, 'results.json')}, report.md, report.html`);
  return 0;
}
