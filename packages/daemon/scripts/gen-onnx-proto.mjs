// Regenerates src/onnx/onnx-proto.json (the protobufjs reflection descriptor the daemon loads) from
// the vendored ONNX schema src/onnx/onnx.proto. Run after replacing the schema:
//   node packages/daemon/scripts/gen-onnx-proto.mjs
// The schema was copied from onnx 1.12 (IR version 8); a newer onnx.proto can be dropped in as is.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pbjs } from 'protobufjs-cli';

const onnxDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'onnx');

pbjs.main(['--target', 'json', join(onnxDir, 'onnx.proto')], (error, output) => {
  if (error) throw error;
  // Round-trip through JSON.parse so the committed file has one stable formatting.
  writeFileSync(join(onnxDir, 'onnx-proto.json'), `${JSON.stringify(JSON.parse(output), null, 2)}\n`);
});
