import { posix } from 'node:path';
import type { CommandResult, ServiceBackend, ServiceSpec, ServiceState, ServiceSystem } from './service-spec';
import { xmlText } from './xml-text';

/** The agent's label: `launchctl print gui/<uid>/styleset.daemon`. */
export const LAUNCHD_LABEL = 'styleset.daemon';

/** launchd starts a job that keeps exiting at most this often (seconds). */
const THROTTLE_SECONDS = 10;

/**
 * A launchd agent in ~/Library/LaunchAgents: loaded into the user's GUI session at every login
 * (RunAtLoad), started again when it exits with a failure (KeepAlive.SuccessfulExit = false: a
 * daemon stopped by SIGTERM exits 0 and stays stopped), output in ~/Library/Logs, where Console
 * shows it.
 */
export function launchdBackend(system: ServiceSystem): ServiceBackend {
  const definition = posix.join(system.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const logDir = posix.join(system.home, 'Library', 'Logs', 'Styleset');
  const log = posix.join(logDir, 'daemon.log');
  const domain = `gui/${system.uid ?? 0}`;
  const service = `${domain}/${LAUNCHD_LABEL}`;
  return {
    kind: 'launchd agent',
    name: LAUNCHD_LABEL,
    definition,
    files: (spec) => [{ path: definition, content: launchdPlist(spec, log) }],
    paths: [definition],
    // launchd opens the log file but does not make its folder.
    folders: [logDir],
    install: [
      // An agent loaded before runs the old definition until it is booted out.
      { file: 'launchctl', args: ['bootout', service], mayFail: true },
      // Clears a `launchctl disable` that would keep it from loading at login.
      { file: 'launchctl', args: ['enable', service] },
      { file: 'launchctl', args: ['bootstrap', domain, definition] },
    ],
    uninstall: [{ file: 'launchctl', args: ['bootout', service], mayFail: true }],
    afterRemoval: [],
    query: { file: 'launchctl', args: ['print', service] },
    parse: parseLaunchctlPrint,
    logs: { where: log, command: `tail -f "${log}"` },
  };
}

export function launchdPlist(spec: ServiceSpec, log: string): string {
  const string = (value: string) => `<string>${xmlText(value)}</string>`;
  const env = Object.entries(spec.env).map(([name, value]) => `    <key>${xmlText(name)}</key>\n    ${string(value)}`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by `styleset service install`; `styleset service uninstall` removes it. -->',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  ${string(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...[spec.node, spec.cli, ...spec.args].map((arg) => `    ${string(arg)}`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env,
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    `  <integer>${THROTTLE_SECONDS}</integer>`,
    '  <key>StandardOutPath</key>',
    `  ${string(log)}`,
    '  <key>StandardErrorPath</key>',
    `  ${string(log)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

function parseLaunchctlPrint(result: CommandResult): ServiceState {
  if (result.code !== 0) {
    // 113: "Could not find service": not loaded.
    return { registered: false, enabled: false, running: false, detail: (result.stderr || result.stdout).trim() || `launchctl exited with ${result.code}` };
  }
  const field = (name: string) => new RegExp(`^\\s*${name} = (.+)$`, 'm').exec(result.stdout)?.[1].trim();
  const state = field('state') ?? 'unknown';
  const pid = Number(field('pid'));
  const lastExit = Number(field('last exit code'));
  return {
    registered: true,
    enabled: true,
    running: state === 'running',
    pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    detail: state,
    lastExit: Number.isInteger(lastExit) ? lastExit : undefined,
  };
}
