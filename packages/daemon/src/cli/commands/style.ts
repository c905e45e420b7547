import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { imageStyleOptionsSchema, LIMITS, resolveOptions, type ImageStyleOptions } from '@styleset/protocol';
import { resolveDirs } from '../../config/paths';
import { InputError } from '../../errors';
import { modelDefaults, readModelLayout } from '../../model/layout';
import { formatBytes } from '../../storage';
import {
  ARCHIVE_SUFFIX,
  REFERENCE_FILE,
  StyleStore,
  exportStyle,
  importStyle,
  modelUnetSha256,
  newStyle,
  readSetFile,
  styleInfo,
  type LocalModel,
  type StoredStyle,
} from '../../styles';
import { decimal, integer, parseGuidance, parseImageSide, parseSteps } from '../arguments';
import { chooseModel } from '../local-engine';

const DATA_DIR_HELP = 'the data folder whose styles/ holds them (default: $STYLESET_DATA_DIR, else the platform data folder)';

interface SaveFlags {
  from?: string;
  image?: string;
  prompt?: string;
  model?: string;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  negative?: string;
  batchSize?: number;
  sharedScoreShift?: number;
  inversionGuidance?: number;
  inversionOffset?: number;
  replace: boolean;
  json: boolean;
  dataDir?: string;
}

export function registerStyle(program: Command): void {
  const style = program
    .command('style')
    .description('saved styles: a reference, the options it was made with and its model, kept in the data folder and reused with `generate --style NAME`');
  style
    .command('save')
    .description("save a style: a set's reference (--from DIR/set.json), or an image and its prompt (--image FILE --prompt TEXT)")
    .argument('<name>', 'the style\'s name: lower-case letters, digits, - and _')
    .option('--from <set.json>', "the record `generate` wrote: the set's first prompt, seed, options, batch size and model")
    .option('--image <file>', 'a PNG or JPEG whose style to keep (DDIM-inverted on first use)')
    .option('--prompt <text>', 'describes --image')
    .option('-m, --model <id|dir>', 'with --image: the model the style belongs to (default: the embedded icon model)')
    .option('--steps <n>', 'with --image: denoising steps (default: 50)', parseSteps)
    .option('--guidance <g>', 'with --image: guidance (default: 10)', parseGuidance)
    .option('--width <px>', "with --image: image width (default: the model's)", parseImageSide)
    .option('--height <px>', "with --image: image height (default: the model's)", parseImageSide)
    .option('--negative <text>', 'with --image: negative prompt')
    .option('--batch-size <n>', 'with --image: images per U-Net batch, the reference included (default: from the model size)', integer(2, LIMITS.batchSize.max))
    .option('--shared-score-shift <s>', 'with --image: added to the logits of the reference (default: ln 2)', decimal(LIMITS.sharedScoreShift.min, LIMITS.sharedScoreShift.max))
    .option('--inversion-guidance <g>', 'with --image: guidance while inverting (default: 2)', parseGuidance)
    .option('--inversion-offset <n>', 'with --image: trajectory entry the reference starts from (default: 5)', integer(0, LIMITS.steps.max - 1))
    .option('--replace', 'replace a style of the same name', false)
    .option('--json', 'print the style as JSON', false)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (name: string, flags: SaveFlags) => {
      const saved = await saveStyle(name, flags);
      print(flags.json, saved, `saved style ${name} (${describe(saved)}); use it: styleset generate --style ${name} "a new prompt"\n`);
    });
  style
    .command('list')
    .description('the saved styles')
    .option('--json', 'one JSON object on stdout', false)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (flags: { json: boolean; dataDir?: string }) => {
      const store = openStore(flags.dataDir);
      const styles = await store.list();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ dir: store.dir, styles: styles.map((s) => ({ ...styleInfo(s.manifest), thumbnail: join(s.dir, REFERENCE_FILE) })) })}\n`);
        return;
      }
      if (styles.length === 0) {
        process.stdout.write(`no styles in ${store.dir}; \`styleset style save NAME --from DIR/set.json\` saves one\n`);
        return;
      }
      const rows = styles.map(({ manifest: m }) => [m.name, m.kind, m.model.id, m.createdAt.slice(0, 10), m.prompt.length > 50 ? `${m.prompt.slice(0, 49)}…` : m.prompt]);
      const header = ['NAME', 'FROM', 'MODEL', 'SAVED', 'REFERENCE'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const lines = [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
      process.stdout.write(`${lines.join('\n')}\nin ${store.dir}\n`);
    });
  style
    .command('show')
    .description('one style: its reference (with the path of its image), options, model and kept trajectories')
    .argument('<name>')
    .option('--json', 'one JSON object on stdout', false)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (name: string, flags: { json: boolean; dataDir?: string }) => {
      const style = await openStore(flags.dataDir).get(name);
      const { manifest: m } = style;
      const thumbnail = join(style.dir, REFERENCE_FILE);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...styleInfo(m), thumbnail, reference: m.reference, trajectories: m.trajectories, dir: style.dir })}\n`);
        return;
      }
      const o = m.options;
      const lines = [
        `style ${m.name}: ${describe(style)}`,
        `reference: ${JSON.stringify(m.prompt)}${m.seed === undefined ? '' : `, seed ${m.seed}`}, ${m.reference.width}x${m.reference.height}`,
        `thumbnail: ${thumbnail}`,
        `model: ${m.model.id}, U-Net sha256 ${m.model.unetSha256}`,
        `options: ${o.steps} steps, guidance ${o.guidance}, ${o.scheduler}, ${o.width}x${o.height}${o.batchSize === undefined ? '' : `, batches of ${o.batchSize}`}${o.negativePrompt ? `, negative ${JSON.stringify(o.negativePrompt)}` : ''}`,
        `StyleAligned: ${['shareAttention', 'adainQueries', 'adainKeys', 'adainValues', 'fullAttentionShare', 'shareGroupNorm', 'shareLayerNorm'].filter((k) => o[k as keyof typeof o]).join(', ') || 'nothing shared'}; score scale ${o.sharedScoreScale}, shift ${o.sharedScoreShift}, only-self level ${o.onlySelfLevel}`,
        ...(m.kind === 'image' ? [`inversion: guidance ${o.inversionGuidance}, offset ${o.inversionOffset}`] : []),
        `new images start at index ${m.nextIndex} (--first-index)`,
        `trajectories: ${m.trajectories.length === 0 ? 'none kept' : m.trajectories.map((t) => `${t.steps} steps at ${t.width}x${t.height} (${formatBytes(t.bytes)})`).join('; ')}`,
        `saved ${m.createdAt}, in ${style.dir}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  style
    .command('rm')
    .description('delete a saved style')
    .argument('<name>')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (name: string, flags: { dataDir?: string }) => {
      await openStore(flags.dataDir).remove(name);
      process.stdout.write(`deleted style ${name}\n`);
    });
  style
    .command('export')
    .description('write a style to one file (a zip: style.json, reference.png, trajectories) to share or move')
    .argument('<name>')
    .option('-o, --out <file>', `the file (default: NAME${ARCHIVE_SUFFIX})`)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (name: string, flags: { out?: string; dataDir?: string }) => {
      const store = openStore(flags.dataDir);
      const { file, bytes } = await exportStyle(store, await store.get(name), flags.out ?? `${name}${ARCHIVE_SUFFIX}`);
      process.stdout.write(`wrote ${file} (${formatBytes(bytes)})\n`);
    });
  style
    .command('import')
    .description('read a style file written by `style export`, checked entry by entry; its model must be here (the same U-Net), or use --reinvert')
    .argument('<file>')
    .option('--as <name>', 'save it under another name')
    .option('--replace', 'replace a style of the same name', false)
    .option('--reinvert', "bind it to a model here whose U-Net is not the style's (--model, else the one of its id): its reference image is inverted there, and images will differ", false)
    .option('-m, --model <id|dir>', 'with --reinvert: the model to bind it to')
    .option('--json', 'print the style as JSON', false)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (file: string, flags: { as?: string; replace: boolean; reinvert: boolean; model?: string; json: boolean; dataDir?: string }) => {
      if (flags.model !== undefined && !flags.reinvert) throw new InputError('--model chooses the model for --reinvert; without it a style keeps its own model');
      const store = openStore(flags.dataDir);
      const localModel = (id: string) => findLocalModel(id, store.dataDir);
      const reinvertOn = flags.reinvert ? await reinvertTarget(flags.model, file, localModel, store.dataDir) : undefined;
      const { style, warnings } = await importStyle(store, file, { as: flags.as, replace: flags.replace, localModel, reinvertOn });
      for (const warning of warnings) process.stderr.write(`styleset: warning: ${warning}\n`);
      print(flags.json, style, `imported style ${style.manifest.name} (${describe(style)})\n`);
    });
}

function openStore(dataDir: string | undefined): StyleStore {
  return new StyleStore(resolveDirs({ dataDir }).dataDir, (message) => process.stderr.write(`styleset: warning: ${message}\n`));
}

function describe({ manifest: m }: StoredStyle): string {
  const from = m.kind === 'set' ? `the first image of a set, seed ${m.seed}` : 'a reference image';
  return `${from}; model ${m.model.id}`;
}

function print(json: boolean, style: StoredStyle, text: string): void {
  process.stdout.write(json ? `${JSON.stringify({ ...styleInfo(style.manifest), thumbnail: join(style.dir, REFERENCE_FILE) })}\n` : text);
}

/** The model of that id here (installed, or the embedded one), with what a style checks of it. */
async function findLocalModel(id: string, dataDir: string): Promise<LocalModel | undefined> {
  const chosen = await chooseModel(id, dataDir).catch(() => undefined);
  if (chosen === undefined || (/[\\/]/.test(id) === false && chosen.id !== id)) return undefined;
  return localModelAt(chosen.id, chosen.dir, dataDir);
}

async function localModelAt(id: string, dir: string, dataDir: string): Promise<LocalModel> {
  const layout = await readModelLayout(dir);
  const { sha256 } = await modelUnetSha256(dataDir, dir);
  return { id, unetSha256: sha256, width: layout.nativeWidth, height: layout.nativeHeight, referenceGuidance: layout.defaults.referenceGuidance };
}

/** --reinvert's model: --model, else the model of the style's id if there is one here. */
async function reinvertTarget(model: string | undefined, file: string, localModel: (id: string) => Promise<LocalModel | undefined>, dataDir: string): Promise<LocalModel> {
  if (model !== undefined) {
    const chosen = await chooseModel(model, dataDir);
    return localModelAt(chosen.id, chosen.dir, dataDir);
  }
  const id = await styleModelId(file);
  const here = id === undefined ? undefined : await localModel(id);
  if (here === undefined) throw new InputError(`--reinvert: the style's model ${id ?? ''} is not here; say which model to bind it to with --model ID`);
  return here;
}

/** The model id a style file names, read before the import checks it (only to choose a default). */
async function styleModelId(file: string): Promise<string | undefined> {
  const yauzl = await import('yauzl');
  try {
    const zip = await yauzl.openPromise(resolve(file), { lazyEntries: true });
    try {
      for await (const entry of zip.eachEntry()) {
        if (entry.fileName !== 'style.json' || entry.uncompressedSize > 256 * 1024) continue;
        const chunks: Buffer[] = [];
        for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
        const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: { id?: unknown } }).model?.id;
        return typeof id === 'string' ? id : undefined;
      }
    } finally {
      zip.close();
    }
  } catch {
    // The import itself says what is wrong with the file.
  }
  return undefined;
}

async function saveStyle(name: string, flags: SaveFlags): Promise<StoredStyle> {
  const store = openStore(flags.dataDir);
  if ((flags.from === undefined) === (flags.image === undefined)) throw new InputError('save a style --from DIR/set.json, or from --image FILE --prompt TEXT');
  if (flags.from !== undefined) {
    const imageOnly = (['image', 'prompt', 'model', 'steps', 'guidance', 'width', 'height', 'negative', 'batchSize', 'sharedScoreShift', 'inversionGuidance', 'inversionOffset'] as const).filter((k) => flags[k] !== undefined);
    if (imageOnly.length > 0) throw new InputError(`--${imageOnly[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --image; --from takes everything from the set's record`);
    const set = await readSetFile(flags.from);
    if (set.modelDir === undefined) throw new InputError(`${flags.from}: the record does not say where its model is (model.path)`);
    const { sha256 } = await modelUnetSha256(store.dataDir, set.modelDir);
    const { manifest, png } = newStyle({ ...set.source, name, model: { id: set.source.model.id, unetSha256: sha256 } });
    return store.create(manifest, png, { replace: flags.replace });
  }
  if (flags.prompt === undefined) throw new InputError('--image needs --prompt, a description of the image');
  const image = await readFile(resolve(flags.image!)).catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`${flags.image}: cannot read the reference image (${error.code ?? error.message})`);
  });
  const chosen = await chooseModel(flags.model, store.dataDir);
  const layout = await readModelLayout(chosen.dir);
  const given: ImageStyleOptions = {
    steps: flags.steps,
    guidance: flags.guidance,
    width: flags.width,
    height: flags.height,
    negativePrompt: flags.negative,
    batchSize: flags.batchSize,
    sharedScoreShift: flags.sharedScoreShift,
    inversionGuidance: flags.inversionGuidance,
    inversionOffset: flags.inversionOffset,
  };
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const parsed = imageStyleOptionsSchema.safeParse(defined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`);
  }
  const model = {
    kind: layout.family,
    width: layout.nativeWidth,
    height: layout.nativeHeight,
    defaults: modelDefaults(layout),
  } as const;
  const options = { ...resolveOptions('reference', model, parsed.data), batchSize: parsed.data.batchSize };
  const { sha256 } = await modelUnetSha256(store.dataDir, chosen.dir);
  const { manifest, png } = newStyle({ name, kind: 'image', prompt: flags.prompt, options, model: { id: chosen.id, unetSha256: sha256 }, nextIndex: 0, image });
  return store.create(manifest, png, { replace: flags.replace });
}
