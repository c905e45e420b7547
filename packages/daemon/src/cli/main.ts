import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { createServeEngine } from '../engine/create-engine';
import { StylesetError } from '../errors';
import { registerDoctor } from './commands/doctor';
import { registerEval } from './commands/eval';
import { registerGenerate } from './commands/generate';
import { registerInvert } from './commands/invert';
import { registerModels } from './commands/models';
import { registerPair } from './commands/pair';
import { registerPrune } from './commands/prune';
import { registerPull } from './commands/pull';
import { registerServe } from './commands/serve';
import { registerService } from './commands/service';
import { registerStatus } from './commands/status';
import { registerWorker } from './commands/worker';
import { registerStyle } from './commands/style';

const program = new Command()
  .name('styleset')
  .description('Style-consistent asset sets, generated locally (StyleAligned on ONNX Runtime).')
  .version(packageJson.version)
  .showHelpAfterError();

registerGenerate(program);
registerInvert(program);
registerServe(program, createServeEngine);
registerService(program);
registerWorker(program, createServeEngine);
registerPair(program);
registerStatus(program);
registerPrune(program);
registerPull(program);
registerModels(program);
registerDoctor(program);
registerStyle(program);
registerEval(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof StylesetError) {
    console.error(`styleset: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
}
