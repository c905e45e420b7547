/**
 * Tiny random-weight Stable Diffusion pipelines in the folder layout Optimum's ONNX export writes.
 * See README.md for the options, the layout and what was checked against real exports.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder, writeModel, type ModelProto } from '../../../packages/daemon/src/onnx';
import { modelIndex, schedulerConfig, textEncoderConfig, unetConfig, vaeConfig } from './configs';
import { Net } from './net';
import { modelDims, resolveOptions, type ModelDims, type ResolvedOptions, type TinyModelOptions } from './options';
import { Random } from './random';
import { buildTextEncoder } from './text-encoder';
import { tokenizerFiles, vocabSize } from './tokenizer-files';
import { buildUNet, type UNetInfo } from './unet';
import { buildVaeDecoder, buildVaeEncoder } from './vae';

export type { Family, ModelDims, ResolvedOptions, TinyModelOptions } from './options';
export type { UNetInfo } from './unet';

export interface TinyModel {
  dir: string;
  options: ResolvedOptions;
  dims: ModelDims;
  vocabSize: number;
  unet: UNetInfo;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Writes a pipeline folder into `dir` (created if needed; files of the same names are replaced). */
export async function generateTinyModel(dir: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const resolved = resolveOptions(options);
  const dims = modelDims(resolved);
  const vocab = vocabSize();
  let component = 0;
  // One stream per component, so a change to one model leaves the others' weights alone.
  const newNet = () => {
    component += 1;
    const torch2 = resolved.attention === 'sdpa';
    const builder = new GraphBuilder({
      graphName: torch2 ? 'main_graph' : 'torch_jit',
      opset: 14,
      producerVersion: torch2 ? '2.1.0' : '1.13.1',
    });
    return new Net(builder, new Random((resolved.seed * 0x9e3779b1 + component * 0x85ebca6b) >>> 0), resolved.dtype);
  };
  const writeComponent = async (name: string, model: ModelProto, config: object) => {
    await mkdir(join(dir, name), { recursive: true });
    await writeModel(
      join(dir, name, 'model.onnx'),
      model,
      resolved.weights === 'external' ? { externalData: { location: 'model.onnx_data' } } : {},
    );
    await writeFile(join(dir, name, 'config.json'), json(config));
  };

  const unetNet = newNet();
  const unet = buildUNet(unetNet, dims.unet, resolved);
  await writeComponent('unet', unetNet.b.build(), unetConfig(resolved, dims.unet));

  const encoderFolders = ['text_encoder', 'text_encoder_2'];
  const tokenizerFolders = ['tokenizer', 'tokenizer_2'];
  for (const [i, encoder] of dims.textEncoders.entries()) {
    const net = newNet();
    buildTextEncoder(net, encoder, vocab, resolved.inputIds);
    await writeComponent(encoderFolders[i], net.b.build(), textEncoderConfig(resolved, encoder, vocab));
    await mkdir(join(dir, tokenizerFolders[i]), { recursive: true });
    for (const [file, content] of Object.entries(tokenizerFiles(encoder.padToken))) {
      await writeFile(join(dir, tokenizerFolders[i], file), content);
    }
  }

  const decoderNet = newNet();
  buildVaeDecoder(decoderNet, dims.vae, resolved);
  await writeComponent('vae_decoder', decoderNet.b.build(), vaeConfig(resolved, dims.vae, dims));
  const encoderNet = newNet();
  buildVaeEncoder(encoderNet, dims.vae, resolved);
  await writeComponent('vae_encoder', encoderNet.b.build(), vaeConfig(resolved, dims.vae, dims));

  await mkdir(join(dir, 'scheduler'), { recursive: true });
  await writeFile(join(dir, 'scheduler', 'scheduler_config.json'), json(schedulerConfig(resolved)));
  await writeFile(join(dir, 'model_index.json'), json(modelIndex(resolved)));
  return { dir, options: resolved, dims, vocabSize: vocab, unet };
}
