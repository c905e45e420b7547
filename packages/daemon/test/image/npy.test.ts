import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { formatNpy, parseNpy, readNpy, writeNpy } from '../../src/image/npy';

/* Fixtures were written by numpy 2.4 (fixtures/make-fixtures.py). */
const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', name)));
const VALUES_2X3 = [1.5, -2, 0, 3.25, Math.fround(1e-3), -7];

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('.npy', () => {
  it('writes the exact bytes numpy writes', () => {
    expect(formatNpy({ data: Float32Array.from(VALUES_2X3), dims: [2, 3] })).toEqual(fixture('f4-2x3.npy'));
    expect(formatNpy({ data: Float32Array.from([0, 1, 2, 3, 4]), dims: [5] })).toEqual(fixture('f4-5.npy'));
    const latents = Float32Array.from({ length: 16 }, (_, i) => i / 4 - 2);
    expect(formatNpy({ data: latents, dims: [1, 4, 2, 2] })).toEqual(fixture('f4-1x4x2x2.npy'));
  });

  it('writes the header laid out by the NPY 1.0 spec', () => {
    const bytes = formatNpy({ data: Float32Array.from(VALUES_2X3), dims: [2, 3] });
    // magic \x93NUMPY, version 1.0, header length 118 (uint16 LE) so that 10 + 118 = 128 is a multiple of 64
    expect([...bytes.subarray(0, 10)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    // the dict, 20 spaces of growth room (21 digits minus the 1 of "2"), padding spaces, then '\n'
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const header = Buffer.from(bytes.subarray(10, 128)).toString('latin1');
    expect(header).toBe(dict + ' '.repeat(118 - dict.length - 1) + '\n');
    expect(bytes.length).toBe(128 + 6 * 4);
    // data: little-endian float32, C order; 1.5 = 0x3fc00000
    expect([...bytes.subarray(128, 132)]).toEqual([0x00, 0x00, 0xc0, 0x3f]);
  });

  it('reads format 1.0 and 2.0 files', () => {
    for (const name of ['f4-2x3.npy', 'f4-2x3-v2.npy']) {
      const t = parseNpy(fixture(name), name);
      expect(t.dims).toEqual([2, 3]);
      expect([...t.data]).toEqual(VALUES_2X3);
    }
    expect(parseNpy(fixture('f4-5.npy'), 'x').dims).toEqual([5]);
  });

  it('round-trips through files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'styleset-npy-'));
    try {
      const tensor = { data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), dims: [2, 3, 2, 2] };
      await writeNpy(join(dir, 'latents.npy'), tensor);
      expect(await readNpy(join(dir, 'latents.npy'))).toEqual(tensor);
      await expect(readNpy(join(dir, 'missing.npy'))).rejects.toThrow(`${join(dir, 'missing.npy')}: cannot read the .npy file`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects other dtypes, byte orders, Fortran order and malformed files, naming the file', () => {
    expect(errorOf(() => parseNpy(fixture('f8-2x3.npy'), 'a.npy'))).toBe("a.npy: dtype '<f8' is not supported; expected little-endian float32 ('<f4'), e.g. np.save(path, x.astype('<f4'))");
    expect(errorOf(() => parseNpy(fixture('f4-be-2x3.npy'), 'b.npy'))).toContain("b.npy: dtype '>f4' is not supported");
    expect(errorOf(() => parseNpy(fixture('f4-fortran-2x3.npy'), 'c.npy'))).toBe('c.npy: Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray(x))');
    expect(errorOf(() => parseNpy(Buffer.from('PK\x03\x04not npy at all'), 'd.npz'))).toBe('d.npz: not a .npy file (it does not start with "\\x93NUMPY")');
    const v3 = fixture('f4-2x3.npy');
    v3[6] = 3;
    expect(errorOf(() => parseNpy(v3, 'e.npy'))).toBe('e.npy: unsupported .npy format version 3.0 (expected 1.0 or 2.0)');
    expect(errorOf(() => parseNpy(fixture('f4-2x3.npy').subarray(0, 140), 'f.npy'))).toBe('f.npy: shape (2, 3) needs 24 bytes of float32 data, the file has 12');
    expect(errorOf(() => parseNpy(fixture('f4-2x3.npy').subarray(0, 60), 'g.npy'))).toBe('g.npy: the .npy file is truncated inside its header');
  });
});
