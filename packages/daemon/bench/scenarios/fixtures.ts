import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateTinyModel } from '../../../../test/support/tiny-models';
import { TEST_SUITE_SET } from '../../../../test/support/tiny-models/test-suite-set';

export interface FixturesSpec {
  kind: 'fixtures';
  /** Scratch folder, removed afterwards. */
  dir: string;
}

export interface FixturesResult {
  models: number;
  generationMs: number;
}

/** Generating the tiny models test/tiny-models.test.ts checks: part of every `npm test`. */
export async function runFixtures(spec: FixturesSpec): Promise<FixturesResult> {
  const variants = Object.entries(TEST_SUITE_SET);
  const started = performance.now();
  try {
    for (const [name, options] of variants) await generateTinyModel(join(spec.dir, name.replaceAll(' ', '_')), options);
    return { models: variants.length, generationMs: performance.now() - started };
  } finally {
    await rm(spec.dir, { recursive: true, force: true });
  }
}
