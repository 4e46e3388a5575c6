import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressBar, type ProgressEvent } from '@tempered/core';
import { JobBoard } from './job-board.js';

/** What a terminal shows after `text`: a cursor, carriage return, newline, cursor-up, clear line and clear below. */
function screen(text: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  for (const token of text.split(/(\x1b\[\d*[AJK]|\r|\n)/)) {
    if (!token) continue;
    if (token === '\r') col = 0;
    else if (token === '\n') {
      row++;
      col = 0;
      rows[row] ??= '';
    } else if (token.endsWith('A')) row = Math.max(0, row - Number(/\d+/.exec(token)?.[0] ?? 1));
    else if (token.endsWith('J')) {
      rows.length = row + 1;
      rows[row] = rows[row]!.slice(0, col);
    } else if (token.endsWith('K')) rows[row] = rows[row]!.slice(0, col);
    else {
      const line = rows[row]!.padEnd(col);
      rows[row] = line.slice(0, col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  while (rows.length > 0 && rows.at(-1) === '') rows.pop();
  return rows;
}

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const stream = new Writable({ write: (chunk, _e, cb) => ((text += chunk.toString()), cb()) });
  return { stream, text: () => text };
}

const bar = (done: number, total: number, label: string): ProgressEvent => ({ type: 'bar', done, total, elapsedMs: 1000 * done, label });
const line = (text: string): ProgressEvent => ({ type: 'line', text });

describe('JobBoard', () => {
  it('on a TTY keeps one live line per running job under the lines that stay', () => {
    const out = capture();
    const board = new JobBoard({ tty: true, quiet: false, stream: out.stream });
    board.start('seed-1/teacher');
    board.start('seed-1/baseline');
    board.progress('seed-1/teacher', bar(1, 10, 'teacher epoch 1/3'));
    board.progress('seed-1/baseline', bar(1, 20, 'baseline epoch 1/2'));
    board.progress('seed-1/teacher', line('teacher/student epoch 1/3 loss 1.2'));
    board.progress('seed-1/teacher', bar(5, 10, 'teacher epoch 2/3'));
    const shown = screen(out.text());
    expect(shown).toEqual([
      '[seed-1/teacher] teacher/student epoch 1/3 loss 1.2',
      `seed-1/teacher: ${progressBar(5, 10, 5000, 'teacher epoch 2/3')}`,
      `seed-1/baseline: ${progressBar(1, 20, 1000, 'baseline epoch 1/2')}`,
    ]);
    board.end('seed-1/teacher', 'done in 3.0 s');
    // A late event of a job that ended draws nothing.
    board.progress('seed-1/teacher', bar(10, 10, 'teacher epoch 3/3'));
    expect(screen(out.text())).toEqual(['[seed-1/teacher] teacher/student epoch 1/3 loss 1.2', '[seed-1/teacher] done in 3.0 s', `seed-1/baseline: ${progressBar(1, 20, 1000, 'baseline epoch 1/2')}`]);
    // Nothing a terminal would have to interpret is left in the lines that stay.
    expect(out.text().split('\n')[0]).not.toMatch(/\x1b\[K/);
  });

  it('in CI prints lines and steps prefixed with their job, and no bar', () => {
    const out = capture();
    const board = new JobBoard({ tty: false, quiet: false, stream: out.stream });
    board.start('seed-1/kd');
    board.progress('seed-1/kd', bar(3, 10, 'kd epoch 1/2'));
    board.progress('seed-1/kd', line('kd/student epoch 1/2 loss 0.5 acc 80%'));
    board.progress('seed-1/kd', { type: 'step', done: 0, total: 4, elapsedMs: 0, label: 'kd: clean pass over 100 examples' });
    board.end('seed-1/kd', 'done in 1.0 s');
    expect(out.text()).toBe('[seed-1/kd] kd/student epoch 1/2 loss 0.5 acc 80%\n[seed-1/kd] [1/4] kd: clean pass over 100 examples\n[seed-1/kd] done in 1.0 s\n');
  });
});
