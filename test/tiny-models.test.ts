import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  float16ToFloat32,
  float32ToFloat16,
  GraphIndex,
  readConstant,
  readModel,
  upcastFloat16ModelFile,
  type GraphProto,
} from '../packages/daemon/src/onnx';
import { generateTinyModel, type TinyModel, type TinyModelOptions } from './support/tiny-models';
import { TEST_SUITE_SET } from './support/tiny-models/test-suite-set';

const variants = TEST_SUITE_SET;

let root: string;
const models: Record<string, TinyModel> = {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tiny-models-'));
  for (const [name, options] of Object.entries(variants)) {
    models[name] = await generateTinyModel(join(root, name.replaceAll(' ', '_')), options);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

/** Deterministic pseudo-random floats in [-1, 1). */
function floats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

function floatTensor(model: TinyModel, data: Float32Array, dims: number[]): ort.Tensor {
  return model.options.dtype === 'fp16' ? new ort.Tensor('float16', float32ToFloat16(data), dims) : new ort.Tensor('float32', data, dims);
}

function readFloats(tensor: ort.Tensor): Float32Array {
  return tensor.type === 'float16' ? float16ToFloat32(tensor.data as Uint16Array) : (tensor.data as Float32Array);
}

/** Checks a batch-2 output: finite, not constant, and item 0 differs from item 1. */
function expectLiveBatch(tensor: ort.Tensor, label: string): void {
  const values = readFloats(tensor);
  const half = values.length / 2;
  expect(values.every(Number.isFinite), `${label} finite`).toBe(true);
  let differs = 0;
  let spread = 0;
  for (let i = 0; i < half; i++) {
    differs = Math.max(differs, Math.abs(values[i] - values[half + i]));
    spread = Math.max(spread, Math.abs(values[i] - values[0]));
  }
  expect(spread, `${label} not constant`).toBeGreaterThan(1e-4);
  expect(differs, `${label} depends on the input`).toBeGreaterThan(1e-4);
}

function metadata(session: ort.InferenceSession): Record<string, { type: string; shape: readonly (number | string)[] }> {
  const out: Record<string, { type: string; shape: readonly (number | string)[] }> = {};
  for (const meta of [...session.inputMetadata, ...session.outputMetadata]) {
    if (meta.isTensor) out[meta.name] = { type: meta.type, shape: meta.shape };
  }
  return out;
}

function promptIds(model: TinyModel, tokens: number[]): number[] {
  const endOfText = model.vocabSize - 1;
  const ids = [model.vocabSize - 2, ...tokens, endOfText];
  while (ids.length < 77) ids.push(endOfText);
  return ids;
}

describe('tiny models', () => {
  // How long this takes is measured by `npm run bench` (test fixtures), not asserted here.
  it('generates every variant', () => {
    expect(Object.keys(models)).toEqual(Object.keys(variants));
  });

  describe.each(Object.keys(variants))('%s', (name) => {
    it('has the pipeline folder layout and configs', async () => {
      const model = models[name];
      const xl = model.options.family === 'sdxl';
      const files = (await listFiles(model.dir)).sort();
      const onnx = ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder', ...(xl ? ['text_encoder_2'] : [])];
      for (const folder of onnx) {
        expect(files).toContain(`${folder}/model.onnx`);
        expect(files).toContain(`${folder}/config.json`);
        if (model.options.weights === 'external') expect(files).toContain(`${folder}/model.onnx_data`);
      }
      for (const folder of xl ? ['tokenizer', 'tokenizer_2'] : ['tokenizer']) {
        for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) {
          expect(files).toContain(`${folder}/${file}`);
        }
      }
      const index = await readJson(model.dir, 'model_index.json');
      expect(index._class_name).toBe(xl ? 'StableDiffusionXLPipeline' : 'StableDiffusionPipeline');
      const scheduler = await readJson(model.dir, 'scheduler/scheduler_config.json');
      expect(scheduler).toMatchObject({
        beta_start: 0.00085,
        beta_end: 0.012,
        beta_schedule: 'scaled_linear',
        num_train_timesteps: 1000,
        steps_offset: 1,
        clip_sample: false,
        set_alpha_to_one: false,
        prediction_type: model.options.prediction,
        timestep_spacing: model.options.turbo ? 'trailing' : 'leading',
      });
      if (model.options.turbo) expect(scheduler._class_name).toBe('EulerAncestralDiscreteScheduler');
      const unet = await readJson(model.dir, 'unet/config.json');
      expect(unet.block_out_channels).toEqual(model.dims.unet.blockOutChannels);
      expect(unet.addition_embed_type).toBe(xl ? 'text_time' : null);
      const vae = await readJson(model.dir, 'vae_decoder/config.json');
      expect(vae.latent_channels).toBe(4);
      expect(vae.sample_size).toBe(unet.sample_size * 2 ** (vae.block_out_channels.length - 1));
      const textEncoder = await readJson(model.dir, 'text_encoder/config.json');
      expect(textEncoder.vocab_size).toBe(model.vocabSize);
      const vocab = await readJson(model.dir, 'tokenizer/vocab.json');
      expect(Object.keys(vocab)).toHaveLength(model.vocabSize);
    });

    it('runs the U-Net at batch 2 with the I/O Optimum exports', async () => {
      const model = models[name];
      const { unet } = model.dims;
      const session = await ort.InferenceSession.create(join(model.dir, 'unet', 'model.onnx'), sessionOptions);
      const float = model.options.dtype === 'fp16' ? 'float16' : 'float32';
      const io = metadata(session);
      const legacy = model.options.timestep === 'int64-batch';
      expect(io.sample).toEqual({ type: float, shape: ['batch_size', legacy ? 'num_channels' : 4, 'height', 'width'] });
      // ONNX Runtime reports output dims it can infer (the channels) as numbers, whatever the export named them.
      expect(io.out_sample).toEqual({ type: float, shape: ['batch_size', 4, 'height', 'width'] });
      expect(io.encoder_hidden_states).toEqual({ type: float, shape: ['batch_size', 'sequence_length', unet.crossAttentionDim] });
      expect(io.timestep).toEqual(
        model.options.timestep === 'int64-batch' ? { type: 'int64', shape: ['steps'] } : { type: float, shape: [] },
      );
      expect(session.outputNames).toEqual(['out_sample']);
      const size = unet.sampleSize;
      const feeds: Record<string, ort.Tensor> = {
        sample: floatTensor(model, floats(2 * 4 * size * size, 1), [2, 4, size, size]),
        timestep:
          model.options.timestep === 'int64-batch'
            ? new ort.Tensor('int64', BigInt64Array.from([999n, 999n]), [2])
            : floatTensor(model, Float32Array.from([999]), []),
        encoder_hidden_states: floatTensor(model, floats(2 * 77 * unet.crossAttentionDim, 2), [2, 77, unet.crossAttentionDim]),
      };
      if (unet.addition) {
        expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);
        expect(io.text_embeds).toEqual({ type: float, shape: ['batch_size', unet.addition.textEmbedDim] });
        expect(io.time_ids).toEqual({ type: float, shape: ['batch_size', 6] });
        feeds.text_embeds = floatTensor(model, floats(2 * unet.addition.textEmbedDim, 3), [2, unet.addition.textEmbedDim]);
        feeds.time_ids = floatTensor(model, Float32Array.from([64, 64, 0, 0, 64, 64, 64, 64, 0, 0, 64, 64]), [2, 6]);
      } else {
        expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
      }
      const { out_sample } = await session.run(feeds);
      expect(out_sample.dims).toEqual([2, 4, size, size]);
      expect(out_sample.type).toBe(float);
      expectLiveBatch(out_sample, 'out_sample');
      await session.release();
    });

    it('names and shapes every self-attention layer like the export it mimics', async () => {
      const model = models[name];
      const graph = (await readModel(join(model.dir, 'unet', 'model.onnx'))).graph as GraphProto;
      const index = new GraphIndex(graph);
      const layers = model.unet.selfAttention;
      expect(layers.map((layer) => layer.path)).toEqual(expectedSelfAttention(model));
      for (const { path, heads } of layers) {
        const node = (suffix: string) => {
          const found = index.node(`${path}/${suffix}`);
          expect(found, `${path}/${suffix}`).toBeDefined();
          return found!;
        };
        const produced = (tensor: string) => index.producer(tensor)?.name;
        const toQ = node('to_q/MatMul');
        for (const projection of ['to_k', 'to_v']) {
          // Self-attention: q, k and v all read the same normalised hidden states.
          expect(node(`${projection}/MatMul`).input[0]).toBe(toQ.input[0]);
        }
        expect(toQ.input[1]).toMatch(/^onnx::MatMul_\d+$/);
        expect(produced(node('to_out.0/Add').input[1])).toBe(`${path}/to_out.0/MatMul`);
        expect(node('to_out.0/Add').input[0]).toBe(`${path.slice(1).replaceAll('/', '.')}.to_out.0.bias`);
        const softmax = node('Softmax');
        expect(index.consumers(softmax.output[0]).map((consumer) => consumer.name)).toEqual([`${path}/MatMul_1`]);
        if (model.options.attention === 'sdpa') {
          expect(produced(softmax.input[0])).toBe(`${path}/MatMul`);
          const scores = node('MatMul');
          expect(scores.input.map(produced)).toEqual([`${path}/Mul`, `${path}/Mul_1`]);
          const [scaledQ, scaledK] = [node('Mul'), node('Mul_1')];
          expect(index.producer(scaledQ.input[0])?.opType).toBe('Transpose');
          expect(index.producer(scaledK.input[0])?.opType).toBe('Transpose');
          expect(index.producer(scaledQ.input[1])?.opType).toBe('Sqrt');
          expect(index.producer(scaledK.input[1])?.opType).toBe('Sqrt');
        } else {
          expect(produced(softmax.input[0])).toBe(`${path}/Mul_3`);
          expect(produced(node('Mul_3').input[0])).toBe(`${path}/MatMul`);
          const scale = readConstant(index, node('Mul_3').input[1]);
          expect(scale?.values[0]).toBeCloseTo(1 / Math.sqrt(headDim(graph, toQ.input[1], heads)), 3);
        }
        // The head count, read back as a rewrite would: Reshape after to_q <- Concat, input 2.
        const [reshape] = index.consumers(toQ.output[0]).filter((consumer) => consumer.opType === 'Reshape');
        expect(reshape.name).toBe(`${path}/Reshape`);
        const concat = index.producer(reshape.input[1]);
        expect(concat?.opType).toBe('Concat');
        expect(readConstant(index, concat!.input[2])?.values).toEqual([heads]);
      }
    });

    it('runs the text encoders at batch 2', async () => {
      const model = models[name];
      const folders = model.dims.textEncoders.length === 2 ? ['text_encoder', 'text_encoder_2'] : ['text_encoder'];
      const float = model.options.dtype === 'fp16' ? 'float16' : 'float32';
      for (const [i, folder] of folders.entries()) {
        const dims = model.dims.textEncoders[i];
        const session = await ort.InferenceSession.create(join(model.dir, folder, 'model.onnx'), sessionOptions);
        const idsType = model.options.inputIds;
        expect(metadata(session).input_ids).toEqual({ type: idsType, shape: ['batch_size', 'sequence_length'] });
        const hiddenStates = dims.hiddenStates ? Array.from({ length: dims.layers + 1 }, (_, k) => `hidden_states.${k}`) : [];
        expect(session.outputNames).toEqual(
          dims.withProjection
            ? ['text_embeds', 'last_hidden_state', ...hiddenStates]
            : ['last_hidden_state', 'pooler_output', ...hiddenStates],
        );
        const ids = [...promptIds(model, [600, 601, 602]), ...promptIds(model, [700, 650])];
        const input =
          idsType === 'int32'
            ? new ort.Tensor('int32', Int32Array.from(ids), [2, 77])
            : new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [2, 77]);
        const outputs = await session.run({ input_ids: input });
        expect(outputs.last_hidden_state.dims).toEqual([2, 77, dims.hidden]);
        expect(outputs.last_hidden_state.type).toBe(float);
        expectLiveBatch(outputs.last_hidden_state, `${folder} last_hidden_state`);
        const pooled = dims.withProjection ? outputs.text_embeds : outputs.pooler_output;
        expect(pooled.dims).toEqual([2, dims.withProjection ? dims.projectionDim : dims.hidden]);
        expectLiveBatch(pooled, `${folder} pooled`);
        for (const state of hiddenStates) expect(outputs[state].dims).toEqual([2, 77, dims.hidden]);
        await session.release();
      }
    });

    it('runs the VAE decoder and encoder at batch 2', async () => {
      const model = models[name];
      const factor = 2 ** (model.dims.vae.blockOutChannels.length - 1);
      const latent = model.dims.unet.sampleSize;
      const pixels = latent * factor;
      const float = model.options.dtype === 'fp16' ? 'float16' : 'float32';

      const legacy = model.options.timestep === 'int64-batch';
      const output = model.options.vaeEncoderOutput;
      const latentChannels = output === 'latent_parameters' ? 8 : 4;
      const imageShape = (asOutput: boolean) => ['batch_size', legacy && !asOutput ? 'num_channels' : 3, 'height', 'width'];
      const latentShape = (channels: number, asOutput: boolean) => [
        'batch_size',
        legacy && !asOutput ? 'num_channels_latent' : channels,
        'height_latent',
        'width_latent',
      ];

      const decoder = await ort.InferenceSession.create(join(model.dir, 'vae_decoder', 'model.onnx'), sessionOptions);
      expect(metadata(decoder)).toEqual({
        latent_sample: { type: float, shape: latentShape(4, false) },
        sample: { type: float, shape: imageShape(true) },
      });
      const decoded = await decoder.run({ latent_sample: floatTensor(model, floats(2 * 4 * latent * latent, 4), [2, 4, latent, latent]) });
      expect(decoded.sample.dims).toEqual([2, 3, pixels, pixels]);
      expectLiveBatch(decoded.sample, 'decoded sample');
      await decoder.release();

      const encoder = await ort.InferenceSession.create(join(model.dir, 'vae_encoder', 'model.onnx'), sessionOptions);
      expect(metadata(encoder)).toEqual({
        sample: { type: float, shape: imageShape(false) },
        [output]: { type: float, shape: latentShape(latentChannels, true) },
      });
      const encoded = await encoder.run({ sample: floatTensor(model, floats(2 * 3 * pixels * pixels, 5), [2, 3, pixels, pixels]) });
      expect(encoded[output].dims).toEqual([2, latentChannels, latent, latent]);
      expectLiveBatch(encoded[output], output);
      await encoder.release();
    });
  });

  it('writes byte-identical files for the same seed, and other weights for another seed', async () => {
    const options: TinyModelOptions = { family: 'sdxl', weights: 'external' };
    const [first, second, other] = await Promise.all(
      ['a', 'b', 'c'].map((dir, i) => generateTinyModel(join(root, `seed-${dir}`), { ...options, seed: i === 2 ? 7 : 3 })),
    );
    const files = await listFiles(first.dir);
    expect(await listFiles(second.dir)).toEqual(files);
    for (const file of files) {
      expect(Buffer.compare(await readFile(join(first.dir, file)), await readFile(join(second.dir, file))), file).toBe(0);
    }
    const weights = 'unet/model.onnx_data';
    expect(Buffer.compare(await readFile(join(first.dir, weights)), await readFile(join(other.dir, weights)))).not.toBe(0);
  });

  it('computes the same U-Net in fp16 as in fp32, and as the fp16 export upcast to fp32', async () => {
    const options: TinyModelOptions = { family: 'sdxl', timestep: 'int64-batch', weights: 'external' };
    const [full, half] = await Promise.all(
      (['fp32', 'fp16'] as const).map((dtype) => generateTinyModel(join(root, `precision-${dtype}`), { ...options, dtype })),
    );
    const upcastPath = join(root, 'precision-upcast', 'unet', 'model.onnx');
    await upcastFloat16ModelFile(join(half.dir, 'unet', 'model.onnx'), upcastPath);
    const { unet } = full.dims;
    const size = unet.sampleSize;
    const textDim = unet.addition!.textEmbedDim;
    const outputs = [];
    for (const [model, path] of [
      [full, join(full.dir, 'unet', 'model.onnx')],
      [half, join(half.dir, 'unet', 'model.onnx')],
      [half, upcastPath],
    ] as const) {
      const session = await ort.InferenceSession.create(path, sessionOptions);
      const { out_sample } = await session.run({
        sample: floatTensor(model, floats(2 * 4 * size * size, 1), [2, 4, size, size]),
        timestep: new ort.Tensor('int64', BigInt64Array.from([500n, 20n]), [2]),
        encoder_hidden_states: floatTensor(model, floats(2 * 77 * unet.crossAttentionDim, 2), [2, 77, unet.crossAttentionDim]),
        text_embeds: floatTensor(model, floats(2 * textDim, 3), [2, textDim]),
        time_ids: floatTensor(model, Float32Array.from([64, 64, 0, 0, 64, 64, 32, 32, 0, 0, 32, 32]), [2, 6]),
      });
      expect(out_sample.type).toBe(model === full ? 'float32' : 'float16');
      outputs.push(readFloats(out_sample));
      await session.release();
    }
    const [reference, ...approximations] = outputs;
    const scale = Math.max(...reference.map(Math.abs));
    for (const approximate of approximations) {
      const worst = Math.max(...reference.map((value, i) => Math.abs(value - approximate[i])));
      expect(worst / scale).toBeLessThan(0.02);
    }
  });
});

function expectedSelfAttention(model: TinyModel): string[] {
  const block = (prefix: string, count: number) => Array.from({ length: count }, (_, k) => `${prefix}/transformer_blocks.${k}/attn1`);
  const lpb = model.dims.unet.layersPerBlock;
  const attentions = (blockPath: string, count: number, layers: number) =>
    Array.from({ length: count }, (_, j) => block(`${blockPath}/attentions.${j}`, layers)).flat();
  if (model.options.family === 'sdxl') {
    // SDXL: no attention on the first level; two transformer blocks per attention on the second.
    return [...attentions('/down_blocks.1', lpb, 2), ...block('/mid_block/attentions.0', 2), ...attentions('/up_blocks.0', lpb + 1, 2)];
  }
  return [...attentions('/down_blocks.0', lpb, 1), ...block('/mid_block/attentions.0', 1), ...attentions('/up_blocks.1', lpb + 1, 1)];
}

/** head_dim from a to_q weight [in, out] and the head count. */
function headDim(graph: GraphProto, weight: string, heads: number): number {
  const tensor = graph.initializer.find((initializer) => initializer.name === weight);
  return (tensor?.dims[1] ?? 0) / heads;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

async function readJson(dir: string, file: string): Promise<any> {
  return JSON.parse(await readFile(join(dir, file), 'utf8'));
}
