import type { ModelInfo } from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import { MAX_PREFERENCE_PASSES, offeredModels, routeJob, WORKER_STALE_MS, type WorkerAnnouncement } from '../../src/team/routing';

const NOW = 1_000_000;
const model = (id: string, loaded = false): ModelInfo => ({ id, kind: 'sd1', width: 64, height: 64, loaded }) as ModelInfo;
const worker = (id: string, models: ModelInfo[], extra: Partial<WorkerAnnouncement> = {}): WorkerAnnouncement => ({ id, models, defaultModel: models[0]?.id ?? '', busy: false, at: NOW, ...extra });

describe('routeJob', () => {
  it('runs a job for a model it has loaded', () => {
    expect(routeJob('a', worker('me', [model('a', true)]), [worker('x', [model('a', true)])], 0, NOW)).toBe('run');
  });

  it('hands back a job for a model it lacks while another live worker offers it, and refuses one nobody offers', () => {
    const me = worker('me', [model('a')]);
    expect(routeJob('b', me, [worker('x', [model('b')])], 0, NOW)).toBe('pass');
    expect(routeJob('b', me, [worker('x', [model('b')], { at: NOW - WORKER_STALE_MS - 1 })], 0, NOW)).toBe('refuse');
    expect(routeJob('b', me, [me], 0, NOW)).toBe('refuse');
  });

  it('prefers an idle worker that has the model loaded, a bounded number of times', () => {
    const me = worker('me', [model('a')]);
    const warm = worker('x', [model('a', true)]);
    expect(routeJob('a', me, [warm], 0, NOW)).toBe('pass');
    expect(routeJob('a', me, [warm], MAX_PREFERENCE_PASSES, NOW)).toBe('run');
    // Busy or gone: no reason to wait for it.
    expect(routeJob('a', me, [{ ...warm, busy: true }], 0, NOW)).toBe('run');
    expect(routeJob('a', me, [{ ...warm, at: NOW - WORKER_STALE_MS - 1 }], 0, NOW)).toBe('run');
    expect(routeJob('a', me, [worker('y', [model('a')])], 0, NOW)).toBe('run');
  });
});

describe('offeredModels', () => {
  it('lists each live worker model once, loaded when any worker has it loaded', () => {
    const models = offeredModels(
      [worker('w2', [model('a', true), model('c')]), worker('w1', [model('a'), model('b')]), worker('w3', [model('d')], { at: NOW - WORKER_STALE_MS - 1 })],
      NOW,
    );
    expect(models.map((m) => [m.id, m.loaded])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
  });
});
