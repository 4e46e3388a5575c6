import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StepProgress, type ProgressEvent } from './progress.js';

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({ write: (chunk, _e, cb) => ((text += chunk.toString()), cb()) }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('StepProgress', () => {
  it('prints one numbered plain line per step and keeps notes, without carriage returns, off a TTY', () => {
    const out = capture();
    const progress = new StepProgress({ stream: out.stream, tty: false });
    progress.step(0, 3, 'a: clean pass');
    progress.note('ε sweep skipped: no such attack');
    progress.step(1, 3, 'a: pgd');
    progress.end('evaluation done');
    expect(out.text()).not.toContain('\r');
    expect(out.text().split('\n')).toEqual(['[1/3] a: clean pass', 'ε sweep skipped: no such attack', '[2/3] a: pgd', expect.stringMatching(/^evaluation done \(\d+:\d\d\)$/), '']);
  });

  it('redraws a bar in place on a TTY, clears it for a note, and ends on a clean line', () => {
    const out = capture();
    const progress = new StepProgress({ stream: out.stream, tty: true });
    progress.step(0, 4, 'first');
    progress.step(2, 4, 'third');
    progress.note('a note');
    progress.end('done');
    const text = out.text();
    expect(text.startsWith('\r[........................]   0% 0/4 ETA --:-- first\x1b[K')).toBe(true);
    expect(text).toContain('\r[############............]  50% 2/4 ETA ');
    expect(text).toContain('\r\x1b[Ka note\n');
    expect(text).toMatch(/a note\ndone \(\d+:\d\d\)\n$/);
  });

  it('prints nothing when quiet', () => {
    const out = capture();
    const progress = new StepProgress({ stream: out.stream, quiet: true, tty: true });
    progress.step(0, 1, 'x');
    progress.note('y');
    progress.end('z');
    expect(out.text()).toBe('');
  });

  it('with a sink sends structured events (what a worker process sends its parent), never drawn text', () => {
    const events: ProgressEvent[] = [];
    const out = capture();
    const progress = new StepProgress({ stream: out.stream, sink: (e) => events.push(e) });
    progress.step(0, 2, 'a: clean pass');
    progress.note('a note');
    progress.step(1, 2, 'a: pgd');
    progress.end('done');
    expect(out.text()).toBe('');
    expect(events.map((e) => (e.type === 'line' ? `line ${e.text.replace(/\(.*\)/, '(t)')}` : `${e.type} ${e.done}/${e.total} ${e.label}`))).toEqual([
      'step 0/2 a: clean pass',
      'line a note',
      'step 1/2 a: pgd',
      'line done (t)',
    ]);
    expect(JSON.parse(JSON.stringify(events))).toEqual(events); // survives IPC serialisation
  });
});
