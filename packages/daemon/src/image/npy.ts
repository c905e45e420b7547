import { readFile, writeFile } from 'node:fs/promises';
import { InputError } from '../errors';
import type { FloatTensor } from '../model/tensor';

/*
 * NumPy's .npy format (numpy.lib.format): "\x93NUMPY", major and minor version bytes, the
 * header length (uint16 LE in 1.0, uint32 LE in 2.0), then an ASCII Python dict literal with
 * 'descr', 'fortran_order' and 'shape', padded with spaces and a final '\n' so that the data
 * starts on a 64-byte boundary. Only little-endian float32 ('<f4') in C order is accepted.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const ALIGN = 64;
/** numpy leaves room for the leading axis to grow to 21 digits, so files can be appended to in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

function fail(source: string, problem: string): never {
  throw new InputError(`${source}: ${problem}`);
}

function headerField(header: string, key: string, value: string, source: string): string {
  const match = new RegExp(`['"]${key}['"]\\s*:\\s*${value}`).exec(header);
  if (!match) fail(source, `the .npy header has no valid '${key}' (header: ${header.trim()})`);
  return match[1];
}

/** A float32 C-order .npy file's contents as a tensor; `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source: string): FloatTensor {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) fail(source, 'not a .npy file (it does not start with "\\x93NUMPY")');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major !== 1 && major !== 2) fail(source, `unsupported .npy format version ${major}.${bytes[7]} (expected 1.0 or 2.0)`);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) fail(source, 'the .npy file is truncated inside its header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) fail(source, 'the .npy file is truncated inside its header');
  const header = Buffer.from(bytes.subarray(headerStart, dataStart)).toString('latin1');

  const descr = headerField(header, 'descr', `['"]([^'"]*)['"]`, source);
  if (descr !== '<f4') fail(source, `dtype '${descr}' is not supported; expected little-endian float32 ('<f4'), e.g. np.save(path, x.astype('<f4'))`);
  if (headerField(header, 'fortran_order', '(True|False)', source) === 'True') {
    fail(source, 'Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray(x))');
  }
  const dimsText = headerField(header, 'shape', '\\(([^)]*)\\)', source);
  const dims = dimsText.split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(source, `invalid shape (${dimsText}) in the .npy header`);

  const count = dims.reduce((a, b) => a * b, 1);
  const dataBytes = bytes.length - dataStart;
  if (dataBytes !== count * 4) fail(source, `shape (${dims.join(', ')}) needs ${count * 4} bytes of float32 data, the file has ${dataBytes}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + 4 * i, true);
  return { data, dims };
}

/** The .npy (format 1.0) bytes numpy's `np.save` writes for this float32 tensor. */
export function formatNpy(tensor: FloatTensor): Uint8Array {
  const { data, dims } = tensor;
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || dims.reduce((a, b) => a * b, 1) !== data.length) {
    throw new Error(`tensor dims [${dims.join(', ')}] do not match its ${data.length} values`);
  }
  // Python's repr of a tuple: (), (5,), (1, 4, 64, 64)
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  if (dims.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(dims[0]).length);
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;
  const header = dict + ' '.repeat(ALIGN - (unpadded % ALIGN)) + '\n';

  const out = new Uint8Array(MAGIC.length + 4 + header.length + 4 * data.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  view.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const dataStart = 10 + header.length;
  for (let i = 0; i < data.length; i++) view.setFloat32(dataStart + 4 * i, data[i], true);
  return out;
}

/** Reads a float32 .npy file (e.g. `--init-latents`). */
export async function readNpy(path: string): Promise<FloatTensor> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`${path}: cannot read the .npy file (${(e as Error).message})`, { cause: e });
  }
  return parseNpy(bytes, path);
}

/** Writes a tensor as a float32 .npy file (e.g. `--save-latents`). */
export async function writeNpy(path: string, tensor: FloatTensor): Promise<void> {
  await writeFile(path, formatNpy(tensor));
}
