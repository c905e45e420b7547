import { describe, expect, it } from 'vitest';
import { selectFiles } from '../../src/hub/file-selection';
import type { RepoFile } from '../../src/hub/hub-api';

const lfs = (path: string, size: number): RepoFile => ({ path, size, sha256: 'a'.repeat(64) });
const git = (path: string, size: number): RepoFile => ({ path, size, gitOid: 'b'.repeat(40) });

// The file list of stabilityai/stable-diffusion-xl-base-1.0 with its sizes, as published (README,
// "Get a real model"): PyTorch, Flax, OpenVINO and ONNX weights side by side in each component folder.
const SDXL_BASE: RepoFile[] = [
  lfs('sd_xl_base_1.0.safetensors', 6_938_246_474),
  lfs('sd_xl_base_1.0_0.9vae.safetensors', 6_938_246_474),
  lfs('sd_xl_offset_example-lora_1.0.safetensors', 49_590_178),
  git('model_index.json', 542),
  git('scheduler/scheduler_config.json', 292),
  git('text_encoder/config.json', 617),
  lfs('text_encoder/flax_model.msgpack', 492_280_832),
  lfs('text_encoder/model.fp16.safetensors', 246_144_152),
  lfs('text_encoder/model.onnx', 492_563_974),
  lfs('text_encoder/model.safetensors', 492_398_696),
  lfs('text_encoder/openvino_model.bin', 492_282_630),
  lfs('text_encoder/openvino_model.xml', 1_069_862),
  git('text_encoder_2/config.json', 782),
  lfs('text_encoder_2/flax_model.msgpack', 2_778_316_800),
  lfs('text_encoder_2/model.fp16.safetensors', 1_389_382_128),
  lfs('text_encoder_2/model.onnx', 1_048_898),
  lfs('text_encoder_2/model.onnx_data', 2_778_132_228),
  lfs('text_encoder_2/model.safetensors', 2_778_505_080),
  lfs('text_encoder_2/openvino_model.bin', 2_778_316_506),
  lfs('text_encoder_2/openvino_model.xml', 2_832_466),
  git('tokenizer/merges.txt', 524_619),
  git('tokenizer/special_tokens_map.json', 588),
  git('tokenizer/tokenizer_config.json', 680),
  git('tokenizer/vocab.json', 1_064_915),
  git('tokenizer_2/merges.txt', 524_619),
  git('tokenizer_2/special_tokens_map.json', 588),
  git('tokenizer_2/tokenizer_config.json', 680),
  git('tokenizer_2/vocab.json', 1_064_915),
  git('unet/config.json', 1_519),
  lfs('unet/diffusion_flax_model.msgpack', 10_271_308_800),
  lfs('unet/diffusion_pytorch_model.fp16.safetensors', 5_135_149_760),
  lfs('unet/diffusion_pytorch_model.safetensors', 10_270_295_892),
  lfs('unet/model.onnx', 7_340_254),
  lfs('unet/model.onnx_data', 10_270_301_752),
  lfs('unet/openvino_model.bin', 10_270_293_676),
  lfs('unet/openvino_model.xml', 22_530_932),
  git('vae/config.json', 820),
  lfs('vae/diffusion_pytorch_model.safetensors', 334_643_468),
  git('vae_1_0/config.json', 820),
  lfs('vae_1_0/diffusion_pytorch_model.safetensors', 334_643_468),
  git('vae_decoder/config.json', 820),
  lfs('vae_decoder/model.onnx', 198_056_542),
  lfs('vae_decoder/openvino_model.bin', 198_054_618),
  lfs('vae_decoder/openvino_model.xml', 950_234),
  git('vae_encoder/config.json', 820),
  lfs('vae_encoder/model.onnx', 136_745_062),
  lfs('vae_encoder/openvino_model.bin', 136_743_466),
  lfs('vae_encoder/openvino_model.xml', 892_774),
  git('.gitattributes', 1_519),
  lfs('01.png', 4_604_693),
  git('README.md', 6_850),
];

describe('the files a pull takes from a repository', () => {
  it('takes the ONNX graphs, their external weights, configs and tokenizers, and nothing else', () => {
    const selection = selectFiles(SDXL_BASE);
    if (!selection.ok) throw new Error(selection.hint);
    expect(selection.files.map((f) => f.local).sort()).toEqual(
      [
        'model_index.json',
        'scheduler/scheduler_config.json',
        'text_encoder/config.json',
        'text_encoder/model.onnx',
        'text_encoder_2/config.json',
        'text_encoder_2/model.onnx',
        'text_encoder_2/model.onnx_data',
        'tokenizer/merges.txt',
        'tokenizer/special_tokens_map.json',
        'tokenizer/tokenizer_config.json',
        'tokenizer/vocab.json',
        'tokenizer_2/merges.txt',
        'tokenizer_2/special_tokens_map.json',
        'tokenizer_2/tokenizer_config.json',
        'tokenizer_2/vocab.json',
        'unet/config.json',
        'unet/model.onnx',
        'unet/model.onnx_data',
        'vae_decoder/config.json',
        'vae_decoder/model.onnx',
        'vae_encoder/config.json',
        'vae_encoder/model.onnx',
      ].sort(),
    );
    expect(selection.skipped).toBe(SDXL_BASE.length - 22);
    // 13.9 GB of the repository's 71.6 GB: the sum of the ONNX files above, the configs and tokenizers.
    const onnx = 492_563_974 + 1_048_898 + 2_778_132_228 + 7_340_254 + 10_270_301_752 + 198_056_542 + 136_745_062;
    const small = 542 + 292 + 617 + 782 + 1_519 + 820 + 820 + 2 * (524_619 + 588 + 680 + 1_064_915);
    expect(selection.files.reduce((sum, f) => sum + f.size, 0)).toBe(onnx + small);
  });

  it('takes every external-data name exporters use, and only next to a model.onnx folder', () => {
    const base = ['model_index.json', 'scheduler/scheduler_config.json', 'text_encoder/model.onnx', 'tokenizer/vocab.json', 'tokenizer/merges.txt', 'vae_decoder/model.onnx', 'unet/model.onnx'];
    const extra = ['unet/weights.pb', 'unet/model.onnx_data_1', 'vae_decoder/model.onnx.data', 'unet/model.onnx_data', 'safety_checker/model.onnx', 'unet/model_fp16.onnx', 'unet/sub/model.onnx_data'];
    const selection = selectFiles([...base, ...extra].map((p) => git(p, 1)));
    if (!selection.ok) throw new Error(selection.hint);
    expect(selection.files.map((f) => f.local).filter((p) => !base.includes(p)).sort()).toEqual(['unet/model.onnx_data', 'unet/model.onnx_data_1', 'unet/weights.pb', 'vae_decoder/model.onnx.data']);
  });

  it('takes an export from a subfolder, named relative to it', () => {
    const selection = selectFiles(SDXL_BASE.map((f) => ({ ...f, path: `onnx/${f.path}` })), 'onnx');
    if (!selection.ok) throw new Error(selection.hint);
    expect(selection.files.find((f) => f.local === 'unet/model.onnx_data')).toMatchObject({ path: 'onnx/unet/model.onnx_data', size: 10_270_301_752 });
  });

  it('names what is missing and where an export is, or that there are only PyTorch weights', () => {
    const inFolder = selectFiles(SDXL_BASE.map((f) => ({ ...f, path: `onnx/${f.path}` })));
    expect(inFolder).toEqual({ ok: false, missing: expect.arrayContaining(['model_index.json', 'unet/model.onnx']), hint: 'an export is in "onnx": pull with --subfolder onnx' });
    const pytorch = selectFiles(SDXL_BASE.filter((f) => !/\.onnx/.test(f.path)));
    expect(pytorch.ok).toBe(false);
    if (!pytorch.ok) {
      expect(pytorch.missing).toEqual(['unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx', 'text_encoder_2/model.onnx']);
      expect(pytorch.hint).toMatch(/^it has no ONNX files, only other weights \(sd_xl_base_1\.0\.safetensors/);
    }
  });
});
