import { Option, type Command } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProvider, type RuntimeOptions } from '../model/runtime';
import { integer } from './arguments';

export interface RuntimeFlags {
  provider: ExecutionProvider;
  threads?: number;
  keepFloat16: boolean;
  memoryLimit?: number;
}

/** How ONNX Runtime runs the models: the same flags for `generate`, `invert`, `eval` and `serve`. */
export function addRuntimeOptions(command: Command): Command {
  return command
    .addOption(new Option('--provider <name>', 'ONNX Runtime execution provider').choices(EXECUTION_PROVIDERS).default('cpu'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', integer(1, 256))
    .option(
      '--memory-limit <MiB>',
      'memory a U-Net batch may take; sets the default batch size (default: half the available memory on the CPU, 2048 on other providers)',
      integer(64, 16 * 2 ** 20),
    )
    .option(
      '--keep-float16',
      'run float16 exports as exported on the CPU provider, instead of from float32 copies in the data folder (those take twice the disk space, and compute faster and without float16 rounding between nodes)',
      false,
    );
}

export function runtimeFromFlags(flags: RuntimeFlags): RuntimeOptions {
  return { provider: flags.provider, threads: flags.threads, keepFloat16: flags.keepFloat16, memoryLimitMiB: flags.memoryLimit };
}

/**
 * The arguments that give another `styleset` command the same flags: the service's `serve` runs
 * with the flags `service install` was given. Every option addRuntimeOptions defines is here.
 */
export function runtimeArgs(flags: RuntimeFlags): string[] {
  const args: string[] = [];
  if (flags.provider !== 'cpu') args.push('--provider', flags.provider);
  if (flags.threads !== undefined) args.push('--threads', String(flags.threads));
  if (flags.memoryLimit !== undefined) args.push('--memory-limit', String(flags.memoryLimit));
  if (flags.keepFloat16) args.push('--keep-float16');
  return args;
}
