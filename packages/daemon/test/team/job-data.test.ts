import { describe, expect, it } from 'vitest';
import type { EngineJob } from '../../src/engine/engine';
import { fromQueuedJob, toQueuedJob } from '../../src/team/job-data';

describe('queued job data', () => {
  it('survives JSON (as BullMQ stores it) with the reference image byte for byte', () => {
    const image = new Uint8Array(300).map((_, i) => (i * 37) % 256);
    const input = { kind: 'reference', prompts: ['a moon'], referencePrompt: 'a star', referenceImage: image, options: { model: 'tiny', seed: 5, steps: 4 } } as unknown as EngineJob;
    const data = JSON.parse(JSON.stringify(toQueuedJob('j1', input)));
    expect(data).toMatchObject({ jobId: 'j1', model: 'tiny', passes: 0 });
    const back = fromQueuedJob(data);
    expect(back).toEqual(input);
    expect(Array.from(back.referenceImage!)).toEqual(Array.from(image));
  });
});
