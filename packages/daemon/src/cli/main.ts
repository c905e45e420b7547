import { Command, CommanderError } from 'commander';
import { createServeEngine } from '../engine/create-engine';
import { StylesetError } from '../errors';
import { registerEval } from './commands/eval';
import { registerGenerate } from './commands/generate';
import { registerInvert } from './commands/invert';
import { registerModels } from './commands/models';
import { registerPair } from './commands/pair';
import { registerPrune } from './commands/prune';
import { registerPull } from './commands/pull';
import { registerServe } from './commands/serve';
import { registerStatus } from './commands/status';

const program = new Command()
  .name('styleset')
  .description('Style-consistent asset sets, generated locally (StyleAligned on ONNX Runtime).')
  .version('0.1.0')
  .showHelpAfterError();

registerGenerate(program);
registerInvert(program);
registerServe(program, createServeEngine);
registerPair(program);
registerStatus(program);
registerPrune(program);
registerPull(program);
registerModels(program);
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
