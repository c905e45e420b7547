/**
 * The client side of the daemon scenario, in its own process as a plugin would be, so that its
 * JavaScript does not run on the daemon's thread: submits sets one after another and times each
 * from `submit` to `done`.
 */
import type { SetOptions } from '@styleset/protocol';
import { StylesetClient } from '../../src/server/client';
import { answerParent } from '../run-child';

export interface ClientRequest {
  url: string;
  token: string;
  prompts: string[];
  options: SetOptions;
  repeats: number;
}

export interface ClientReply {
  wallsMs: number[];
  /** Result frames received, all sets together. */
  results: number;
}

answerParent<ClientRequest>(async (request) => {
  const client = await StylesetClient.connect({ url: request.url, token: request.token });
  const wallsMs: number[] = [];
  let results = 0;
  for (let i = 0; i < request.repeats; i++) {
    const started = performance.now();
    const job = await client.submit({ kind: 'set', prompts: request.prompts, options: request.options });
    for await (const { message } of job) {
      if (message.type === 'result') results++;
      if (message.type === 'job_error') throw new Error(`the daemon failed the set: ${message.message}`);
      if (message.type === 'done') break;
    }
    wallsMs.push(performance.now() - started);
  }
  await client.close();
  return { wallsMs, results } satisfies ClientReply;
});
