import { describe, expect, it } from 'vitest';
import { contentHash } from '../../src/hub/content-hash';
import { hubFromEnv } from '../../src/hub/hub-connection';
import { CATALOGUE, parsePullSpec } from '../../src/hub';

describe('what `styleset pull` is asked for', () => {
  it('reads owner/name[@revision] and catalogue names, with the id the model gets', () => {
    expect(parsePullSpec('owner/tiny-sd')).toEqual({ repo: 'owner/tiny-sd', revision: 'main', subfolder: undefined, id: 'tiny-sd' });
    expect(parsePullSpec('owner/tiny-sd@refs/pr/1', '/onnx/', 'tiny')).toEqual({ repo: 'owner/tiny-sd', revision: 'refs/pr/1', subfolder: 'onnx', id: 'tiny' });
    const turbo = CATALOGUE.find((e) => e.id === 'sdxl-turbo')!;
    expect(parsePullSpec('sdxl-turbo@0123abc')).toMatchObject({ repo: turbo.repo, revision: '0123abc', id: 'sdxl-turbo' });
  });

  it('refuses what cannot be a repository or an id', () => {
    expect(() => parsePullSpec('nope')).toThrow(/"nope" is neither a repository \(owner\/name\) nor a catalogue name \(sd15, sd-turbo, sdxl-turbo, sdxl-base/);
    expect(() => parsePullSpec('owner/x@')).toThrow(/nothing after "@"/);
    expect(() => parsePullSpec('owner/x/y')).toThrow(/is not a repository name/);
    expect(() => parsePullSpec('owner/x', undefined, 'default')).toThrow(/is the embedded model's/);
    expect(() => parsePullSpec('owner/x', undefined, '../x')).toThrow(/model id "..\/x": expected letters, digits/);
  });

  it('takes the endpoint and token from the environment, as the hub tools do', () => {
    expect(hubFromEnv({})).toEqual({ endpoint: 'https://huggingface.co', token: undefined });
    expect(hubFromEnv({ HF_ENDPOINT: 'http://127.0.0.1:9/', HF_TOKEN: 'hf_x' })).toEqual({ endpoint: 'http://127.0.0.1:9', token: 'hf_x' });
    expect(hubFromEnv({ HUGGING_FACE_HUB_TOKEN: 'hf_old' }).token).toBe('hf_old');
    expect(() => hubFromEnv({ HF_ENDPOINT: 'mirror' })).toThrow(/HF_ENDPOINT "mirror" is not a URL/);
  });
});

describe('the digests a download is checked against', () => {
  const hello = Buffer.from('hello\n');
  it('hashes files in git by their blob id and LFS files by sha256 (references: `git hash-object`, `sha256sum`)', () => {
    const blob = contentHash({ path: 'a', size: hello.length, gitOid: 'ce013625030ba8dba906f756967f9e9ca394464a' });
    blob.update(hello.subarray(0, 2));
    blob.update(hello.subarray(2));
    expect([blob.kind, blob.digest()]).toEqual(['git-sha1', blob.expected]);
    const lfs = contentHash({ path: 'a', size: hello.length, sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' });
    lfs.update(hello);
    expect([lfs.kind, lfs.digest()]).toEqual(['sha256', lfs.expected]);
  });
});
