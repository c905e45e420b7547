import { join } from 'node:path';
import { LOAD } from '../test/server/support/load';
import type { ServiceResults } from './results';
import { inChild } from './run-model';

/** The scenarios that need no model: the daemon under load, and the test suite's fixtures. */
export async function benchService(work: string): Promise<ServiceResults> {
  return {
    load: await inChild({ kind: 'service-load', shape: LOAD }, 'service under load'),
    fixtures: await inChild({ kind: 'fixtures', dir: join(work, 'fixtures') }, 'test fixtures'),
  };
}
