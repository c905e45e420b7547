/**
 * `styleset service`: the daemon registered with the platform's own service manager for the
 * current user, so that it starts at login and again after a failure: a systemd user unit
 * (Linux), a launchd agent (macOS), a Task Scheduler task (Windows).
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { StylesetError } from '../errors';
import { launchdBackend } from './launchd';
import type { ServiceIo } from './manage';
import { runCommand } from './run-command';
import type { ServiceBackend, ServiceSystem } from './service-spec';
import { systemdBackend } from './systemd';
import { taskSchedulerBackend } from './task-scheduler';

export { describeCommand, installService, serviceStatus, ServiceError, uninstallService } from './manage';
export type { CommandOutcome, InstallReport, ServiceIo, StatusReport, UninstallReport } from './manage';
export type { CommandResult, CommandRunner, ServiceBackend, ServiceCommand, ServiceFile, ServiceSpec, ServiceState, ServiceSystem } from './service-spec';
export { LAUNCHD_LABEL, launchdPlist } from './launchd';
export { SYSTEMD_UNIT, systemdUnit } from './systemd';
export { launcherScript, TASK_NAME, taskXml } from './task-scheduler';

export function currentSystem(): ServiceSystem {
  return { platform: process.platform, env: process.env, home: homedir(), uid: process.getuid?.() };
}

/** The platform's service manager. */
export function serviceBackend(system: ServiceSystem = currentSystem()): ServiceBackend {
  switch (system.platform) {
    case 'linux':
      return systemdBackend(system);
    case 'darwin':
      return launchdBackend(system);
    case 'win32':
      return taskSchedulerBackend(system);
    default:
      throw new StylesetError('service_unsupported', `styleset service knows systemd (Linux), launchd (macOS) and Task Scheduler (Windows), not ${system.platform}: run \`styleset serve\` from your own service manager`);
  }
}

/** The real file system and commands. */
export const nodeServiceIo: ServiceIo = {
  run: runCommand,
  writeFile: ({ path, content, encoding }) =>
    writeFile(path, encoding === 'utf16le-bom' ? Buffer.from(`\ufeff${content}`, 'utf16le') : content),
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
  remove: (path) => rm(path, { force: true }),
  exists: async (path) => (await stat(path).catch(() => undefined)) !== undefined,
};
