/** Inputs for tiny generated U-Nets and a way to read intermediate tensors of a rewritten one. */
import { writeModel, type ModelProto } from '../../../packages/daemon/src/onnx';
import type { Feed } from '../../../packages/daemon/src/model/tensor';
import type { TinyModel } from '../tiny-models';

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomFloats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

/** The U-Net's own inputs for a batch of `rows` (each row drawn from its own seed, so rows can be picked out). */
export function unetInputs(model: TinyModel, rowSeeds: readonly number[]): Record<string, Feed> {
  const { unet } = model.dims;
  const side = unet.sampleSize;
  const rows = (perRow: number, salt: number) => {
    const data = new Float32Array(rowSeeds.length * perRow);
    rowSeeds.forEach((seed, i) => data.set(randomFloats(perRow, seed * 7919 + salt), i * perRow));
    return data;
  };
  const batch = rowSeeds.length;
  const feeds: Record<string, Feed> = {
    sample: { data: rows(4 * side * side, 1), dims: [batch, 4, side, side] },
    timestep:
      model.options.timestep === 'float-scalar'
        ? { data: new Float32Array([421]), dims: [] }
        : { ints: new Int32Array(batch).fill(421), dims: [batch] },
    encoder_hidden_states: { data: rows(77 * unet.crossAttentionDim, 2), dims: [batch, 77, unet.crossAttentionDim] },
  };
  if (unet.addition) {
    feeds.text_embeds = { data: rows(unet.addition.textEmbedDim, 3), dims: [batch, unet.addition.textEmbedDim] };
    feeds.time_ids = { data: new Float32Array(batch * 6).fill(8 * side), dims: [batch, 6] };
  }
  return feeds;
}

/** Writes `model` with the named tensors (of `elemType`) added as graph outputs, so a session can return them. */
export async function writeWithOutputs(path: string, model: ModelProto, tensors: readonly string[], elemType: number): Promise<void> {
  const graph = model.graph!;
  const output = [...graph.output, ...tensors.map((name) => ({ name, type: { tensorType: { elemType } } }))];
  await writeModel(path, { ...model, graph: { ...graph, output } });
}

/** max |a - b| / max |b|: agreement relative to the reference's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}
