import { join } from 'node:path';
import { readToken } from '../../src/config/token';
import { startDaemon } from '../../src/server/daemon';
import { OrtTime } from '../measure/ort-time';
import type { BenchModel } from '../models';
import { requestFromChild } from '../run-child';
import { openEngine, runJob, setJob } from './common';
import type { ClientReply, ClientRequest } from './daemon-client';

export interface DaemonSpec {
  kind: 'daemon';
  model: BenchModel;
  dataDir: string;
  targets: number;
  /** Absent: the model's default. */
  steps?: number;
  repeats: number;
}

export interface DaemonResult {
  /** Per set, from the client's `submit` to its `done`: queue, pipeline, PNGs, job store, frames. */
  wallsMs: number[];
  /** Inside ONNX Runtime in the daemon process over all the sets. */
  ortMs: number;
  /**
   * The daemon's event loop busy time meanwhile (ONNX Runtime's synchronous runs included): the
   * rest of the sets' time it waited, on files and on the client.
   */
  loopBusyMs: number;
}

/**
 * StyleAligned sets through the real daemon over WebSocket, with the client in another process.
 * The model is loaded and warm before the first set.
 */
export async function runDaemon(spec: DaemonSpec): Promise<DaemonResult> {
  const { engine, info } = await openEngine(spec.model, spec.dataDir);
  const job = setJob(info, spec.targets, { steps: spec.steps, shareAttention: true });
  await runJob(engine, job);
  const configDir = join(spec.dataDir, 'config');
  const daemon = await startDaemon({ engine, dataDir: spec.dataDir, configDir, port: 0 });
  const ort = new OrtTime();
  // The client's start and connection fall inside this window too: idle time, none of it busy.
  const loop = performance.eventLoopUtilization();
  try {
    const reply = await requestFromChild<ClientReply>(new URL('./daemon-client.ts', import.meta.url), {
      url: daemon.url,
      token: await readToken(configDir),
      prompts: job.prompts,
      options: { model: info.id, seed: job.options.seed, steps: job.options.steps, shareAttention: true },
      repeats: spec.repeats,
    } satisfies ClientRequest);
    if (reply.results !== spec.repeats * job.prompts.length) {
      throw new Error(`the client received ${reply.results} images, expected ${spec.repeats * job.prompts.length}`);
    }
    return { wallsMs: reply.wallsMs, ortMs: ort.take().totalMs, loopBusyMs: performance.eventLoopUtilization(loop).active };
  } finally {
    await daemon.close();
    await engine.close();
  }
}
