import { dirname } from 'node:path';
import { StylesetError } from '../errors';
import type { CommandResult, CommandRunner, ServiceBackend, ServiceCommand, ServiceFile, ServiceSpec, ServiceState } from './service-spec';

/** The file system and the service manager, as the three operations use them: a seam for tests. */
export interface ServiceIo {
  run: CommandRunner;
  writeFile(file: ServiceFile): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Removes a file; a missing one is no error. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

/** A service manager command that failed where it must not. */
export class ServiceError extends StylesetError {
  constructor(message: string) {
    super('service_failed', message);
    this.name = 'ServiceError';
  }
}

export interface CommandOutcome {
  command: ServiceCommand;
  result: CommandResult;
}

export interface InstallReport {
  written: string[];
  commands: CommandOutcome[];
  state: ServiceState;
}

/** Writes the service's files, registers it and starts it now; then asks for its state. */
export async function installService(backend: ServiceBackend, spec: ServiceSpec, io: ServiceIo): Promise<InstallReport> {
  const files = backend.files(spec);
  for (const folder of new Set([...backend.folders, ...files.map((file) => dirname(file.path))])) await io.mkdir(folder);
  for (const file of files) await io.writeFile(file);
  const commands = await runAll(backend.install, io, (command, result) =>
    `${describeCommand(command)} failed (${failure(result)}). ${backend.definition} is written; it takes effect at your next login, or run the command again once the problem is fixed`,
  );
  return { written: files.map((file) => file.path), commands, state: await queryState(backend, io) };
}

export interface UninstallReport {
  removed: string[];
  commands: CommandOutcome[];
  state: ServiceState;
}

/** Stops and unregisters the service, then removes its files. */
export async function uninstallService(backend: ServiceBackend, io: ServiceIo): Promise<UninstallReport> {
  const commands = await runAll(backend.uninstall, io, (command, result) => `${describeCommand(command)} failed (${failure(result)}); nothing was removed`);
  const removed: string[] = [];
  for (const path of backend.paths) {
    if (!(await io.exists(path))) continue;
    await io.remove(path);
    removed.push(path);
  }
  commands.push(...(await runAll(backend.afterRemoval, io, () => '')));
  return { removed, commands, state: await queryState(backend, io) };
}

export interface StatusReport {
  /** The definition file is there: install wrote it and uninstall has not removed it. */
  installed: boolean;
  state: ServiceState;
}

export async function serviceStatus(backend: ServiceBackend, io: ServiceIo): Promise<StatusReport> {
  return { installed: await io.exists(backend.definition), state: await queryState(backend, io) };
}

async function queryState(backend: ServiceBackend, io: ServiceIo): Promise<ServiceState> {
  return backend.parse(await io.run(backend.query));
}

async function runAll(
  commands: ServiceCommand[],
  io: ServiceIo,
  explain: (command: ServiceCommand, result: CommandResult) => string,
): Promise<CommandOutcome[]> {
  const outcomes: CommandOutcome[] = [];
  for (const command of commands) {
    const result = await io.run(command);
    outcomes.push({ command, result });
    if (result.code !== 0 && !command.mayFail) throw new ServiceError(explain(command, result));
  }
  return outcomes;
}

function failure(result: CommandResult): string {
  const said = (result.stderr || result.stdout).trim();
  return result.code === 127 ? `not found: ${said}` : `exit ${result.code}${said === '' ? '' : `: ${said}`}`;
}

/** A command as a person would type it (PowerShell scripts shortened to their first statement). */
export function describeCommand(command: ServiceCommand): string {
  const args = command.args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg)));
  return [command.file, ...args].join(' ');
}
