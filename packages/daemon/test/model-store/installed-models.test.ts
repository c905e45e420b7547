import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installModel, listInstalledModels, openStaging, scanInstalledModels, type InstalledRecord } from '../../src/model-store';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'styleset-store-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const source = { endpoint: 'http://127.0.0.1:1', repo: 'owner/x', revision: 'main', commit: 'c'.repeat(40) };
const record = (commit = 'c'.repeat(40)): InstalledRecord => ({
  formatVersion: 1,
  source: { ...source, commit },
  family: 'sd1',
  pipelineClass: 'StableDiffusionPipeline',
  bytes: 3,
  files: [{ path: 'model_index.json', size: 3, gitOid: 'd'.repeat(40) }],
  installedAt: '2026-01-02T03:04:05.000Z',
});

describe('installed models in the data folder', () => {
  it('lists a model only once it is moved into place with its record; a download in progress never', async () => {
    const staging = await openStaging(dataDir, source);
    await writeFile(join(staging, 'model_index.json'), '{}\n');
    expect(await listInstalledModels(dataDir)).toEqual([]);
    // The same source gets the same staging folder: a later pull resumes there.
    expect(await openStaging(dataDir, source)).toBe(staging);

    const model = await installModel({ dataDir, stagingDir: staging, id: 'x', record: record() });
    expect(model.dir).toBe(join(dataDir, 'models', 'x'));
    expect((await listInstalledModels(dataDir)).map((m) => [m.id, m.record.source.commit])).toEqual([['x', 'c'.repeat(40)]]);
    expect((await readdir(join(dataDir, 'models', 'x'))).sort()).toEqual(['model_index.json', 'styleset-model.json']);
  });

  it('reports a folder without a valid record instead of offering it', async () => {
    await mkdir(join(dataDir, 'models', 'by-hand'), { recursive: true });
    await mkdir(join(dataDir, 'models', 'broken'), { recursive: true });
    await writeFile(join(dataDir, 'models', 'broken', 'styleset-model.json'), '{"formatVersion": 2}');
    const { models, unreadable } = await scanInstalledModels(dataDir);
    expect(models).toEqual([]);
    expect(unreadable.map((u) => [u.dir.split('/').at(-1), u.reason])).toEqual([
      ['broken', expect.stringMatching(/^styleset-model\.json: formatVersion: /)],
      ['by-hand', expect.stringMatching(/^no styleset-model\.json \(ENOENT\)/)],
    ]);
  });

  it('replaces an installed model only when asked, by renames', async () => {
    const first = await openStaging(dataDir, source);
    await installModel({ dataDir, stagingDir: first, id: 'x', record: record() });
    const newer = { ...source, commit: 'e'.repeat(40) };
    const second = await openStaging(dataDir, newer);
    await expect(installModel({ dataDir, stagingDir: second, id: 'x', record: record(newer.commit) })).rejects.toMatchObject({ code: 'model_exists' });
    await installModel({ dataDir, stagingDir: second, id: 'x', record: record(newer.commit), replace: true });
    expect((await listInstalledModels(dataDir)).map((m) => m.record.source.commit)).toEqual(['e'.repeat(40)]);
    expect((await readdir(join(dataDir, 'models'))).sort()).toEqual(['.partial', 'x']);
  });
});
