import { resolve } from 'node:path';
import { mergeReports, renderReports } from '@tempered/reports/node';

/** `tempered report <dir>...`: re-render one run, or merge several into `out`. */
export function reportCommand(dirs: string[], out: string | undefined, io: { out: (s: string) => void }): number {
  if (dirs.length === 1 && (!out || resolve(out) === resolve(dirs[0]!))) {
    renderReports(dirs[0]!);
    io.out(`wrote ${dirs[0]}/report.md and report.html`);
    return 0;
  }
  const target = out ?? dirs[0]!;
  mergeReports(dirs, target);
  io.out(`merged ${dirs.length} runs into ${target}/results.json, report.md and report.html`);
  return 0;
}
