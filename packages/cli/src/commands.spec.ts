import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandHelp, commandSpec, mainHelp, parseCommand, synopsis } from './commands.js';

const README = new URL('../README.md', import.meta.url);
const BLOCK = /(<!-- synopsis: generated from src\/commands\.ts -->\n```\n)([\s\S]*?)(\n```)/;

describe('the command table is the one definition of the command line', () => {
  it("packages/cli/README.md's synopsis is the table's (UPDATE_CLI_README=1 rewrites it)", () => {
    const text = readFileSync(README, 'utf8');
    const match = BLOCK.exec(text);
    expect(match, 'README.md lacks the generated synopsis block').not.toBeNull();
    if (process.env.UPDATE_CLI_README) writeFileSync(README, text.replace(BLOCK, `$1${synopsis()}$3`));
    else expect(match![2]).toBe(synopsis());
  });

  it('every command is in the main help and the synopsis, and every option in its help, synopsis or parser', () => {
    const help = mainHelp('0.0.0');
    const lines = synopsis().split('\n');
    for (const spec of COMMANDS) {
      expect(help).toMatch(new RegExp(`^  ${spec.name}\\b.*${spec.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      expect(lines.some((l) => l.startsWith(`tempered ${spec.name}`)), spec.name).toBe(true);
      const own = commandHelp(spec);
      expect(own.startsWith(`Usage: tempered ${spec.name}`)).toBe(true);
      for (const option of spec.options) {
        expect(own, `${spec.name} --${option.name}`).toContain(`--${option.name}`);
        // The parser takes exactly the table's options: each one parses, with a value when it takes one.
        const args = option.type === 'string' ? [`--${option.name}`, 'v'] : [`--${option.name}`];
        const { values } = parseCommand(spec, args);
        expect(values[option.name], `${spec.name} --${option.name}`).toEqual(option.type === 'boolean' ? true : option.multiple ? ['v'] : 'v');
      }
    }
    // Shown in some command's synopsis line unless folded into another option's (run's --step under --shard).
    expect(synopsis()).toContain('[--shard I/N [--step K]]');
    expect(synopsis()).toContain('tempered list [--plugin MODULE]...');
  });

  it('refuses an option a command does not have, naming the command, and an unknown command listing the known', () => {
    expect(() => parseCommand(commandSpec('report'), ['--plugin', 'x'])).toThrow(/^arguments: Unknown option '--plugin'.* \(tempered report --help lists its options\)$/);
    expect(() => commandSpec('lsit')).toThrow(/unknown command "lsit"; expected run, bench, report, explore, schema, list or new \(tempered --help\)$/);
  });
});
