import { PROTOCOL_VERSION } from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/server/job-messages';
import { decodeStreamEvent, encodeStreamEvent } from '../../src/team/stream-events';

/** As XREAD hands the fields back: every one a Buffer. */
const asRead = (fields: Array<string | Buffer>) => fields.map((f) => (typeof f === 'string' ? Buffer.from(f) : f));

describe('job events on the events stream', () => {
  it('carry a progress event and its preview across unchanged', () => {
    const preview = new Uint8Array([137, 80, 78, 71, 0, 255]);
    const event: JobEvent = { v: PROTOCOL_VERSION, type: 'progress', jobId: 'a1', phase: 'denoising', step: 3, total: 10, etaMs: 70, attachment: { byteLength: 6, mime: 'image/png' } };
    const read = decodeStreamEvent(asRead(encodeStreamEvent(event, preview)));
    expect(read).toEqual({ jobId: 'a1', event, bytes: preview });
  });

  it('leave a result bytes out: front doors read them from the store', () => {
    const event: JobEvent = { v: PROTOCOL_VERSION, type: 'result', jobId: 'a1', index: 2, prompt: 'a star', seed: 9, width: 16, height: 16, attachment: { byteLength: 3, mime: 'image/png' } };
    const fields = encodeStreamEvent(event, new Uint8Array([1, 2, 3]));
    expect(fields).toHaveLength(4);
    expect(decodeStreamEvent(asRead(fields))).toEqual({ jobId: 'a1', event });
  });

  it('skip entries that are not job events', () => {
    expect(decodeStreamEvent(asRead(['something', 'else']))).toBeUndefined();
    expect(decodeStreamEvent(asRead(['job', 'a1', 'event', '{not json']))).toBeUndefined();
    expect(decodeStreamEvent(asRead(['job', 'a1', 'event', JSON.stringify({ type: 'done', jobId: 'b2' })]))).toBeUndefined();
    expect(decodeStreamEvent(asRead(['job', 'a1', 'event', JSON.stringify({ type: 'welcome', jobId: 'a1' })]))).toBeUndefined();
  });
});
