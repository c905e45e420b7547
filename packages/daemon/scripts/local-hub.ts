// A Hugging Face hub on loopback serving generated tiny models, to try `styleset pull` without the
// internet (the tests use the same server: test/support/local-hub.ts):
//
//   npx tsx packages/daemon/scripts/local-hub.ts [--port 8765]
//   HF_ENDPOINT=http://127.0.0.1:8765 npx styleset pull owner/tiny-sd --as tiny
//   npx styleset generate --model tiny "a cat" "a dog"
//
// Repositories: owner/tiny-sd (SD 1.x, external weights, with PyTorch weights beside the ONNX
// files that a pull leaves alone), owner/tiny-sdxl, owner/tiny-sd-onnx-folder (the export in
// onnx/: --subfolder onnx), owner/gated-sd (gated: HF_TOKEN=hf_granted), owner/pytorch-only.
// Ctrl-C stops it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesFromFolder, startLocalHub, type HubFile } from '../../../test/support/local-hub';
import { generateTinyModel } from '../../../test/support/tiny-models';

const portFlag = process.argv.indexOf('--port');
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 8765;

const root = await mkdtemp(join(tmpdir(), 'styleset-local-hub-'));
const sd = await generateTinyModel(join(root, 'sd'), { family: 'sd1', weights: 'external' });
const sdxl = await generateTinyModel(join(root, 'sdxl'), { family: 'sdxl', weights: 'external' });
const decoys: HubFile[] = [
  { path: 'README.md', content: Buffer.from('# tiny-sd\nRandom weights, for trying styleset pull.\n'), lfs: false },
  { path: 'unet/diffusion_pytorch_model.safetensors', content: Buffer.alloc(4096, 7), lfs: true },
];

const hub = await startLocalHub({ port });
hub.addRepo({ name: 'owner/tiny-sd', files: [...(await filesFromFolder(sd.dir)), ...decoys] });
hub.addRepo({ name: 'owner/tiny-sdxl', files: await filesFromFolder(sdxl.dir) });
hub.addRepo({ name: 'owner/tiny-sd-onnx-folder', files: [...(await filesFromFolder(sd.dir, 'onnx/')), ...decoys] });
hub.addRepo({ name: 'owner/gated-sd', files: await filesFromFolder(sd.dir), gated: true });
hub.grant('owner/gated-sd', 'hf_granted');
hub.addToken('hf_not_granted');
hub.addRepo({ name: 'owner/pytorch-only', files: decoys });

process.stdout.write(
  [
    `local hub at ${hub.url}`,
    `  export HF_ENDPOINT=${hub.url}`,
    '  npx styleset pull owner/tiny-sd --as tiny && npx styleset generate --model tiny "a cat" "a dog"',
    'repositories: owner/tiny-sd, owner/tiny-sdxl, owner/tiny-sd-onnx-folder (--subfolder onnx), owner/gated-sd (HF_TOKEN=hf_granted), owner/pytorch-only',
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);

process.once('SIGINT', () => {
  void hub
    .close()
    .then(() => rm(root, { recursive: true, force: true }))
    .then(() => process.exit(0));
});
