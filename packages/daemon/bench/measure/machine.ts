import { createRequire } from 'node:module';
import { cpus, release, totalmem, type } from 'node:os';
import type { Machine } from '../results';

export function describeMachine(): Machine {
  const require = createRequire(import.meta.url);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version,
  };
}
