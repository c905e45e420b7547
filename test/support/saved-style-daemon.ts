import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelInfo } from '@styleset/protocol';
import { loadOrCreateToken } from '../../packages/daemon/src/config/token';
import { StylesetClient } from '../../packages/daemon/src/server/client';
import { startDaemon, type Daemon } from '../../packages/daemon/src/server/daemon';
import { FakeEngine } from '../../packages/daemon/test/server/support/fake-engine';
import { tinyModelSet } from './tiny-model-set';

export interface SavedStyleDaemon {
  daemon: Daemon;
  token: string;
  /** The jobs the daemon ran, as the engine received them. */
  engine: FakeEngine;
  /** A folder of the caller's, removed by close(). */
  root: string;
  close(): Promise<void>;
}

/**
 * A real daemon (fake engine) that keeps a style a teammate saved: a set of three at 32×32 in 3
 * steps, seed 70, saved as "brand". Its `tiny` model points at a tiny SD 1.x folder, because a
 * style is bound to its model's U-Net by hash.
 */
export async function startSavedStyleDaemon(prefix: string): Promise<SavedStyleDaemon> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const token = await loadOrCreateToken(join(root, 'config'));
  const models = await tinyModelSet({ sd1: { family: 'sd1' } });
  const engine = new (class extends FakeEngine {
    override async listModels(): Promise<ModelInfo[]> {
      return (await super.listModels()).map((model) => (model.id === 'tiny' ? { ...model, path: models.models.sd1.dir } : model));
    }
  })();
  const daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), host: '127.0.0.1', port: 0 });
  const client = await StylesetClient.connect({ url: daemon.url, token });
  try {
    const job = await client.submit({ kind: 'set', prompts: ['a fox', 'a hen', 'a cow'], options: { steps: 3, seed: 70, width: 32, height: 32 } });
    for await (const event of job) if (event.message.type === 'job_error') throw new Error(event.message.message);
    await client.saveStyle({ name: 'brand', jobId: job.jobId });
  } finally {
    await client.close();
  }
  return {
    daemon,
    token,
    engine,
    root,
    async close() {
      await daemon.close();
      await models.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}
