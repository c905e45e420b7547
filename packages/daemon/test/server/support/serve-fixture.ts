// `styleset serve` as the CLI runs it, with the fake engine in place of the pipeline.
import { Command } from 'commander';
import { registerServe } from '../../../src/cli/commands/serve';
import { FakeEngine } from './fake-engine';

const program = new Command().name('styleset');
registerServe(program, async () => new FakeEngine({ stepDelayMs: 2 }));
await program.parseAsync(process.argv);
