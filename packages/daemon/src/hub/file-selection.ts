import type { RepoFile } from './hub-api';

/** A file to download, and where it goes in the model folder. */
export interface PlannedFile extends RepoFile {
  /** Relative to the model folder (the subfolder taken off). */
  local: string;
}

export type Selection =
  | { ok: true; files: PlannedFile[]; skipped: number }
  | { ok: false; missing: string[]; hint: string };

const ONNX_COMPONENTS = ['unet', 'text_encoder', 'text_encoder_2', 'vae_decoder', 'vae_encoder'];
const TOKENIZERS = ['tokenizer', 'tokenizer_2'];
const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
/**
 * External weights next to a model.onnx, under the names exporters give them: Optimum's
 * `model.onnx_data` (split exports add `_1`, `_2`, ...), ONNX Runtime's and Olive's
 * `model.onnx.data`, and the early diffusers script's `weights.pb`.
 */
const EXTERNAL_DATA = /^(model\.onnx[._]data(_\d+)?|weights\.pb)$/;
const PYTORCH_WEIGHTS = /\.(safetensors|bin|ckpt|pt|pth|msgpack)$/;

/** What the pipeline reads (see model/layout.ts): nothing else is downloaded. */
function needed(local: string): boolean {
  if (local === 'model_index.json' || local === 'scheduler/scheduler_config.json') return true;
  const [folder, name, ...deeper] = local.split('/');
  if (name === undefined || deeper.length > 0) return false;
  if (ONNX_COMPONENTS.includes(folder)) return name === 'model.onnx' || name === 'config.json' || EXTERNAL_DATA.test(name);
  return TOKENIZERS.includes(folder) && TOKENIZER_FILES.includes(name);
}

/** Without these a folder is no Optimum export of an SD 1.x/2.x/SDXL pipeline. */
function required(locals: Set<string>): string[] {
  const paths = [
    'model_index.json',
    'scheduler/scheduler_config.json',
    'unet/model.onnx',
    'text_encoder/model.onnx',
    'tokenizer/vocab.json',
    'tokenizer/merges.txt',
    'vae_decoder/model.onnx',
  ];
  const xl = [...locals].some((p) => p.startsWith('text_encoder_2/') || p.startsWith('tokenizer_2/'));
  if (xl) paths.push('text_encoder_2/model.onnx', 'tokenizer_2/vocab.json', 'tokenizer_2/merges.txt');
  return paths;
}

/**
 * The files of `subfolder` (or the root) that the pipeline needs: the ONNX graphs and their
 * external weights, the configs and the tokenizers, never PyTorch, Flax or OpenVINO weights. A
 * repository that is not such an export gets what is missing and, where the listing shows one,
 * the way to a usable one (an export in another folder, or only PyTorch weights).
 */
export function selectFiles(files: readonly RepoFile[], subfolder?: string): Selection {
  const prefix = subfolder === undefined ? '' : `${subfolder.replace(/^\/+|\/+$/g, '')}/`;
  const inside = files.filter((f) => f.path.startsWith(prefix)).map((f) => ({ ...f, local: f.path.slice(prefix.length) }));
  const locals = new Set(inside.map((f) => f.local));
  const missing = required(locals).filter((p) => !locals.has(p));
  if (missing.length === 0) {
    const chosen = inside.filter((f) => needed(f.local));
    return { ok: true, files: chosen, skipped: inside.length - chosen.length };
  }
  return { ok: false, missing, hint: hint(files, inside, prefix) };
}

function hint(all: readonly RepoFile[], inside: readonly PlannedFile[], prefix: string): string {
  // An export kept in a folder of its own: `onnx/unet/model.onnx` means --subfolder onnx.
  const elsewhere = [...new Set(all.filter((f) => f.path.endsWith('/unet/model.onnx')).map((f) => f.path.slice(0, -'/unet/model.onnx'.length)))].filter(
    (folder) => `${folder}/` !== prefix,
  );
  if (elsewhere.length > 0) return `an export is in ${elsewhere.map((f) => `"${f}"`).join(', ')}: pull with --subfolder ${elsewhere[0]}`;
  if (!inside.some((f) => f.local.endsWith('.onnx'))) {
    const weights = inside.filter((f) => PYTORCH_WEIGHTS.test(f.local)).map((f) => f.local);
    if (weights.length > 0) {
      return `it has no ONNX files, only other weights (${weights.slice(0, 3).join(', ')}${weights.length > 3 ? ', ...' : ''}): export it with \`optimum-cli export onnx --model REPO DIR\` and pass --model DIR, or pull an ONNX export (styleset pull --list)`;
    }
    return 'it has no ONNX files: see `styleset pull --list` for repositories with an ONNX export';
  }
  return 'it is not in the diffusers/Optimum layout Styleset loads (README, Models)';
}
