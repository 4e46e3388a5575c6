import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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

describe('JobBoard', () => {
  it('on a TTY keeps one live line per running job under the lines that stay', () => {
    const out = capture();
    const board = new JobBoard({ tty: true, quiet: false, stream: out.stream });
    board.start('seed-1/teacher');
    board.start('seed-1/baseline');
    board.output('seed-1/teacher', '\r[##..] 10% teacher epoch 1/3\x1b[K');
    board.output('seed-1/baseline', '\r[#...] 5% baseline epoch 1/2\x1b[K');
    board.output('seed-1/teacher', '\r\x1b[Kteacher/train epoch 1/3 loss 1.2\n\r[####] 50% teacher epoch 2/3\x1b[K');
    const shown = screen(out.text());
    expect(shown).toEqual(['[seed-1/teacher] teacher/train epoch 1/3 loss 1.2', 'seed-1/teacher: [####] 50% teacher epoch 2/3', 'seed-1/baseline: [#...] 5% baseline epoch 1/2']);
    board.end('seed-1/teacher', 'done in 3.0 s');
    expect(screen(out.text())).toEqual(['[seed-1/teacher] teacher/train epoch 1/3 loss 1.2', '[seed-1/teacher] done in 3.0 s', 'seed-1/baseline: [#...] 5% baseline epoch 1/2']);
  });

  it('in CI prints whole lines prefixed with their job, and no bar', () => {
    const out = capture();
    const board = new JobBoard({ tty: false, quiet: false, stream: out.stream });
    board.start('seed-1/kd');
    board.output('seed-1/kd', 'kd/train epoch 1/2 loss 0.5');
    board.output('seed-1/kd', ' acc 80%\n');
    board.end('seed-1/kd', 'done in 1.0 s');
    expect(out.text()).toBe('[seed-1/kd] kd/train epoch 1/2 loss 0.5 acc 80%\n[seed-1/kd] done in 1.0 s\n');
  });
});
