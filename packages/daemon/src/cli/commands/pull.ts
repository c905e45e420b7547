import type { Command } from 'commander';
import { resolveDirs } from '../../config/paths';
import { InputError } from '../../errors';
import { CATALOGUE, hubFromEnv, pullModel, type PullEvent } from '../../hub';
import { formatBytes } from '../../storage';
import { PullProgress } from '../pull-progress';

interface PullFlags {
  subfolder?: string;
  as?: string;
  force: boolean;
  list: boolean;
  json: boolean;
  progress: boolean;
  dataDir?: string;
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description(
      'download an ONNX export (diffusers/Optimum layout) from the Hugging Face hub into the data folder, then use it with --model ID; ' +
        'HF_ENDPOINT picks another hub (a mirror), HF_TOKEN is sent for gated and private repositories',
    )
    .argument('[repo]', 'owner/name, owner/name@revision (a branch, tag or commit), or a name from --list')
    .option('--subfolder <dir>', 'the folder of the repository the export is in, when not its root')
    .option('--as <id>', 'install it under this id (default: the --list name, else the repository name)')
    .option('--force', 'replace a model installed under the same id from another repository or commit', false)
    .option('--list', 'list known public ONNX exports', false)
    .option('--json', 'one JSON object per line on stdout: the plan, each file as it starts and as it is verified, retries, the installed model', false)
    .option('--no-progress', 'no progress bar')
    .option('--data-dir <dir>', 'where models are installed, in models/ (default: $STYLESET_DATA_DIR, else the platform data folder)')
    .action(async (repo: string | undefined, flags: PullFlags) => {
      if (flags.list) {
        printCatalogue(flags.json);
        return;
      }
      if (repo === undefined) throw new InputError('which model? give owner/name[@revision] or a name from `styleset pull --list`');
      await runPull(repo, flags);
    });
}

function printCatalogue(json: boolean): void {
  if (json) {
    for (const entry of CATALOGUE) process.stdout.write(`${JSON.stringify(entry)}\n`);
    return;
  }
  const lines = ['Known public ONNX exports (`styleset pull NAME`; any owner/name works too):'];
  for (const e of CATALOGUE) {
    lines.push(`  ${e.id.padEnd(11)} ${e.family.padEnd(5)} ~${formatBytes(e.approxBytes).padEnd(8)} ${e.repo}${e.subfolder ? ` --subfolder ${e.subfolder}` : ''}  ${e.title}`);
    if (e.note) lines.push(`  ${''.padEnd(11)} note: ${e.note}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runPull(spec: string, flags: PullFlags): Promise<void> {
  const { dataDir } = resolveDirs({ dataDir: flags.dataDir });
  const hub = hubFromEnv();
  const bar = new PullProgress(flags.progress && !flags.json && process.stderr.isTTY === true);
  const say = (line: string) => {
    if (!flags.json) bar.log(line);
  };
  const onEvent = (event: PullEvent): void => {
    if (flags.json) {
      if (event.type !== 'progress') process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
      return;
    }
    switch (event.type) {
      case 'resolved':
        say(`${event.repo}@${event.revision} is commit ${event.commit} on ${event.endpoint}${event.subfolder ? `, folder ${event.subfolder}/` : ''}; installing as "${event.id}"`);
        if (event.note) say(`note: ${event.note}`);
        return;
      case 'plan':
        say(
          `${event.files} files, ${formatBytes(event.bytes)}${event.present > 0 ? ` (${formatBytes(event.present)} already downloaded: resuming)` : ''}; ` +
            `${event.skipped} other files of the repository left out (not used by Styleset); ${formatBytes(event.free)} free`,
        );
        bar.start(event.bytes, event.present);
        return;
      case 'file':
        bar.file(event.path);
        return;
      case 'progress':
        bar.update(event.bytes);
        return;
      case 'retry':
        say(`  ${event.path}: connection lost (${event.reason}) at byte ${event.at}; resuming (attempt ${event.attempt})`);
        return;
      case 'file_done':
        if (!bar.enabled && event.verified !== 'present') {
          const resumed = event.resumedFrom > 0 ? `, resumed at byte ${event.resumedFrom}` : '';
          say(`  ${event.path}  ${formatBytes(event.size)}  ${event.verified} verified${resumed}`);
        }
        return;
      case 'up_to_date':
        say(`"${event.id}" is installed already at this commit (${event.dir})`);
        return;
      case 'installed':
        bar.stop();
        say(`installed "${event.id}" (${event.family}, ${formatBytes(event.bytes)}) in ${event.dir}`);
        say(`  npx styleset generate --model ${event.id} "a cat" "a dog"`);
        return;
    }
  };
  try {
    await pullModel({ spec, subfolder: flags.subfolder, as: flags.as, replace: flags.force, dataDir, hub, onEvent });
  } finally {
    bar.stop();
  }
}
