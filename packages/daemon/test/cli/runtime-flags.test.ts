import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addRuntimeOptions, runtimeArgs, type RuntimeFlags } from '../../src/cli/runtime-flags';

// `service install` hands its runtime flags to the `serve` it registers through runtimeArgs: a flag
// left out there would be accepted by `service install` and silently dropped from the service.

function parse(argv: string[]): RuntimeFlags {
  const command = addRuntimeOptions(new Command('serve')).exitOverride();
  command.parse(argv, { from: 'user' });
  return command.opts<RuntimeFlags>();
}

describe('runtimeArgs', () => {
  it('gives back every runtime option addRuntimeOptions defines, each parsing to the same value', () => {
    const given = ['--provider', 'cuda', '--threads', '3', '--memory-limit', '4096', '--keep-float16'];
    const flags = parse(given);
    const args = runtimeArgs(flags);
    const defined = addRuntimeOptions(new Command('serve')).options.map((option) => option.long);
    // A new runtime option fails here until runtimeArgs forwards it (and this test sets it).
    expect(defined.filter((long) => !args.includes(long!))).toEqual([]);
    expect(parse(args)).toEqual(flags);
    expect(flags).toEqual({ provider: 'cuda', threads: 3, memoryLimit: 4096, keepFloat16: true });
  });

  it('gives nothing for the defaults, so the service follows the daemon\'s own defaults', () => {
    expect(runtimeArgs(parse([]))).toEqual([]);
    expect(runtimeArgs(parse(['--threads', '1']))).toEqual(['--threads', '1']);
  });
});
