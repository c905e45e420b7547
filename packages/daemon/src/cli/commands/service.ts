import { InvalidArgumentError, type Command } from 'commander';
import { daemonUrl, findRunningDaemon } from '../../config/daemon-file';
import { resolveDirs, type Dirs } from '../../config/paths';
import { InputError } from '../../errors';
import {
  describeCommand,
  installService,
  nodeServiceIo,
  serviceBackend,
  serviceStatus,
  uninstallService,
  type ServiceBackend,
  type ServiceSpec,
  type ServiceState,
} from '../../service';
import { cliScript, inNpxCache } from '../cli-script';
import { addRuntimeOptions, runtimeArgs, type RuntimeFlags } from '../runtime-flags';

interface DirFlags {
  dataDir?: string;
  configDir?: string;
  json: boolean;
}

interface InstallFlags extends DirFlags, RuntimeFlags {
  env: Record<string, string>;
  dryRun: boolean;
}

const DATA_DIR_HELP = 'the data folder the daemon uses (default: $STYLESET_DATA_DIR, else the platform data folder)';
const CONFIG_DIR_HELP = 'the config folder the daemon uses (default: $STYLESET_CONFIG_DIR, else the platform config folder)';

export function registerService(program: Command): void {
  const service = program
    .command('service')
    .description('run the daemon at login for the current user, restarted when it fails: a systemd user unit (Linux), a launchd agent (macOS), a Task Scheduler task (Windows)');

  const install = service
    .command('install')
    .description('register the daemon (`styleset serve`) with the service manager and start it now; again to change its flags')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--config-dir <dir>', CONFIG_DIR_HELP)
    .option('--env <name=value>', 'another environment variable for the daemon, e.g. LD_LIBRARY_PATH for CUDA (repeatable)', envEntry, {});
  addRuntimeOptions(install)
    .option('--dry-run', 'print the files and commands, change nothing', false)
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (flags: InstallFlags) => {
      await runInstall(flags);
    });

  service
    .command('status')
    .description('whether the daemon is registered, starts at login and runs, where it listens and where its log is')
    .option('--config-dir <dir>', CONFIG_DIR_HELP)
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (flags: DirFlags) => {
      await runStatus(flags);
    });

  service
    .command('uninstall')
    .description('stop the daemon and remove its registration (jobs, models and the token stay)')
    .option('--dry-run', 'print the commands and files, change nothing', false)
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (flags: { dryRun: boolean; json: boolean }) => {
      await runUninstall(flags);
    });
}

/** What `service install` registers, from this process: its Node.js, its CLI, the folders it resolved. */
export function serviceSpec(flags: InstallFlags, dirs: Dirs): ServiceSpec {
  return {
    node: process.execPath,
    cli: cliScript(),
    args: ['serve', ...runtimeArgs(flags)],
    env: { STYLESET_DATA_DIR: dirs.dataDir, STYLESET_CONFIG_DIR: dirs.configDir, ...flags.env },
  };
}

async function runInstall(flags: InstallFlags): Promise<void> {
  const dirs = resolveDirs({ dataDir: flags.dataDir, configDir: flags.configDir });
  const spec = serviceSpec(flags, dirs);
  if (inNpxCache(spec.cli)) {
    throw new InputError(
      `this styleset runs from npm's npx cache (${spec.cli}), which npm may clear at any time: install it first (npm install -g styleset --ignore-scripts), then run \`styleset service install\` again`,
    );
  }
  const backend = serviceBackend();
  if (flags.dryRun) {
    const plan = { kind: backend.kind, files: backend.files(spec), folders: backend.folders, commands: backend.install.map(describeCommand) };
    if (flags.json) process.stdout.write(`${JSON.stringify({ dryRun: true, ...plan })}\n`);
    else process.stdout.write(`${describePlan(plan)}\n`);
    return;
  }
  const report = await installService(backend, spec, nodeServiceIo);
  const { url } = await daemonUrl(dirs.configDir);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ kind: backend.kind, definition: backend.definition, written: report.written, spec, state: report.state, logs: backend.logs, url })}\n`);
    return;
  }
  const lines = [
    `Registered the Styleset daemon as a ${backend.kind}: ${backend.definition}`,
    `  runs    ${[spec.node, spec.cli, ...spec.args].join(' ')}`,
    `  data    ${dirs.dataDir}`,
    `  config  ${dirs.configDir}`,
    `  state   ${describeState(report.state)}`,
    `  logs    ${backend.logs.command}`,
    `It listens at ${url} (config.json's host and port); \`styleset pair\` prints the token the plugins ask for.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runStatus(flags: DirFlags): Promise<void> {
  const { configDir } = resolveDirs({ configDir: flags.configDir });
  const backend = serviceBackend();
  const report = await serviceStatus(backend, nodeServiceIo);
  const daemon = await findRunningDaemon(configDir);
  const { url } = await daemonUrl(configDir);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ kind: backend.kind, definition: backend.definition, ...report, logs: backend.logs, daemon: daemon ?? null, url })}\n`);
    return;
  }
  const lines = [
    `${backend.kind} ${backend.definition}: ${report.installed ? 'installed' : 'not installed (`styleset service install` registers it)'}`,
    `  state   ${describeState(report.state)}`,
    daemon === undefined
      ? `  daemon  not answering at ${url}`
      : `  daemon  listening at ${daemon.url}, pid ${daemon.pid}, since ${daemon.startedAt}`,
    `  logs    ${backend.logs.command}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runUninstall(flags: { dryRun: boolean; json: boolean }): Promise<void> {
  const backend = serviceBackend();
  if (flags.dryRun) {
    const plan = { kind: backend.kind, commands: [...backend.uninstall, ...backend.afterRemoval].map(describeCommand), remove: backend.paths };
    if (flags.json) process.stdout.write(`${JSON.stringify({ dryRun: true, ...plan })}\n`);
    else process.stdout.write(`${plan.commands.map((c) => `$ ${c}`).join('\n')}\nremoves ${plan.remove.join(', ')}\n`);
    return;
  }
  const report = await uninstallService(backend, nodeServiceIo);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ kind: backend.kind, removed: report.removed, state: report.state })}\n`);
    return;
  }
  const removed = report.removed.length === 0 ? 'no files were there' : `removed ${report.removed.join(', ')}`;
  process.stdout.write(`Unregistered the ${backend.kind} (${removed}); jobs, models and the token stay.\n`);
}

function describeState(state: ServiceState): string {
  if (!state.registered) return `not registered (${state.detail})`;
  const parts = [state.detail];
  if (state.pid !== undefined) parts.push(`pid ${state.pid}`);
  if (!state.running && state.lastExit !== undefined) parts.push(`last exit ${state.lastExit}`);
  parts.push(state.enabled ? 'starts at login' : 'does not start at login');
  return parts.join(', ');
}

function describePlan(plan: { kind: ServiceBackend['kind']; files: { path: string; content: string }[]; commands: string[] }): string {
  const files = plan.files.map((file) => `--- ${file.path}\n${file.content.replace(/\r\n/g, '\n').trimEnd()}`);
  return [`would register a ${plan.kind}:`, ...files, '---', ...plan.commands.map((c) => `$ ${c}`)].join('\n');
}

function envEntry(value: string, all: Record<string, string>): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(value);
  if (match === null) throw new InvalidArgumentError(`expected NAME=value, got "${value}"`);
  return { ...all, [match[1]]: match[2] };
}
