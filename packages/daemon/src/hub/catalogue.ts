import type { ModelFamily } from '../model/layout';

/**
 * Public ONNX exports in the diffusers/Optimum layout, by a short name: `styleset pull sdxl-turbo`.
 * The hub could not be reached while this list was made; each entry's files were checked against
 * its repository's file list as others published it (README, "Get a real model", says how, and
 * what could not be checked). A pull checks everything again against the live repository.
 */
export interface CatalogueEntry {
  /** The short name, and the id the model is installed under unless `--as` says otherwise. */
  id: string;
  title: string;
  repo: string;
  revision: string;
  /** Where the export lives in the repository, when not at its root. */
  subfolder?: string;
  family: ModelFamily;
  /** About how much a pull downloads (the ONNX files, configs and tokenizers only). */
  approxBytes: number;
  /** What to know before pulling it. */
  note?: string;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    id: 'sd15',
    title: 'Stable Diffusion 1.5 (float32)',
    repo: 'onnx-community/stable-diffusion-v1-5-ONNX',
    revision: 'main',
    family: 'sd1',
    approxBytes: 4.3e9,
    note: 'exported by the early diffusers script: the U-Net keeps its weights in unet/weights.pb',
  },
  {
    id: 'sd-turbo',
    title: 'SD-Turbo (float16, ONNX Runtime-optimised)',
    repo: 'onnxruntime/sd-turbo',
    revision: 'main',
    family: 'sd2',
    approxBytes: 2.6e9,
    note: "optimised by Olive for ONNX Runtime's CUDA provider, with fused attention: Styleset's shared attention does not handle fused attention, so generation is expected to stop with an error naming the fused ops; no plain export of SD-Turbo was found (make one with `optimum-cli export onnx --model stabilityai/sd-turbo DIR`)",
  },
  {
    id: 'sdxl-turbo',
    title: 'SDXL-Turbo (float32)',
    repo: 'stabilityai/sdxl-turbo',
    revision: 'main',
    family: 'sdxl',
    approxBytes: 13.9e9,
    note: "Stability AI's own repository; its licence (Stability AI Community) limits commercial use",
  },
  {
    id: 'sdxl-base',
    title: 'Stable Diffusion XL base 1.0 (float32)',
    repo: 'stabilityai/stable-diffusion-xl-base-1.0',
    revision: 'main',
    family: 'sdxl',
    approxBytes: 13.9e9,
  },
];

export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return CATALOGUE.find((entry) => entry.id === id);
}
