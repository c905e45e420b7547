import { posix } from 'node:path';
import type { CommandResult, ServiceBackend, ServiceCommand, ServiceSpec, ServiceState, ServiceSystem } from './service-spec';

/** The unit's name; `systemctl --user status styleset` finds it. */
export const SYSTEMD_UNIT = 'styleset.service';

/**
 * A few quick failures in a row (a port taken, a broken config.json) stop the restarts, so the
 * unit ends `failed` with the reason in the journal rather than restarting forever.
 */
const RESTART_SECONDS = 5;
const START_LIMIT_BURST = 5;
const START_LIMIT_SECONDS = 120;

/**
 * A systemd user unit in $XDG_CONFIG_HOME/systemd/user: the user's own service manager starts it
 * when the user's first session begins (`default.target`), restarts it when it fails, and keeps
 * its output in the journal.
 */
export function systemdBackend(system: ServiceSystem): ServiceBackend {
  const configHome = system.env.XDG_CONFIG_HOME && posix.isAbsolute(system.env.XDG_CONFIG_HOME) ? system.env.XDG_CONFIG_HOME : posix.join(system.home, '.config');
  const definition = posix.join(configHome, 'systemd', 'user', SYSTEMD_UNIT);
  const systemctl = (...args: string[]): ServiceCommand => ({ file: 'systemctl', args: ['--user', ...args] });
  return {
    kind: 'systemd user unit',
    name: SYSTEMD_UNIT,
    definition,
    files: (spec) => [{ path: definition, content: systemdUnit(spec) }],
    paths: [definition],
    folders: [],
    // restart rather than start: a unit that is running picks up the new definition.
    install: [systemctl('daemon-reload'), systemctl('enable', SYSTEMD_UNIT), systemctl('restart', SYSTEMD_UNIT)],
    uninstall: [{ ...systemctl('disable', '--now', SYSTEMD_UNIT), mayFail: true }],
    afterRemoval: [{ ...systemctl('daemon-reload'), mayFail: true }],
    query: systemctl('show', SYSTEMD_UNIT, '--property=LoadState,ActiveState,SubState,MainPID,UnitFileState,ExecMainStatus'),
    parse: parseSystemctlShow,
    logs: { where: 'the systemd journal', command: `journalctl --user -u ${SYSTEMD_UNIT} -e` },
  };
}

export function systemdUnit(spec: ServiceSpec): string {
  const lines = [
    '# Written by `styleset service install`; `styleset service uninstall` removes it.',
    '[Unit]',
    'Description=Styleset daemon: style-consistent asset sets for the Figma plugin and the VS Code extension',
    `StartLimitIntervalSec=${START_LIMIT_SECONDS}`,
    `StartLimitBurst=${START_LIMIT_BURST}`,
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[execProgram(spec.node), ...[spec.cli, ...spec.args].map(execArgument)].join(' ')}`,
    ...Object.entries(spec.env).map(([name, value]) => `Environment=${quoted(`${name}=${value}`)}`),
    'Restart=on-failure',
    `RestartSec=${RESTART_SECONDS}`,
    // On SIGTERM the daemon marks unfinished jobs interrupted and closes its engine process.
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ];
  return lines.join('\n');
}

/**
 * systemd.syntax(7) quoting: a double-quoted word with C escapes; `%` starts a specifier
 * everywhere in a unit file.
 */
function quoted(value: string): string {
  if (/[\n\r]/.test(value)) throw new Error(`a service setting cannot hold a line break: ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/**
 * ExecStart's program: systemd expands no variables in it, and refuses one whose path holds a
 * quote or a backslash ("Executable name contains special characters"), however it is escaped.
 */
function execProgram(path: string): string {
  if (/["'\\\u0000-\u001f\u007f]/.test(path)) {
    throw new Error(`systemd cannot run a program whose path holds quotes, backslashes or control characters: ${path}; install Node.js elsewhere`);
  }
  return quoted(path);
}

/** In ExecStart's arguments `$` expands variables (systemd.service(5), Command lines). */
function execArgument(value: string): string {
  return quoted(value).replace(/\$/g, '$$$$');
}

function parseSystemctlShow(result: CommandResult): ServiceState {
  if (result.code !== 0) {
    return { registered: false, enabled: false, running: false, detail: `systemctl --user failed: ${(result.stderr || result.stdout).trim()}` };
  }
  const props = new Map(
    result.stdout
      .split('\n')
      .map((line) => /^(\w+)=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  const pid = Number(props.get('MainPID') ?? 0);
  const status = props.get('ExecMainStatus');
  return {
    registered: props.get('LoadState') === 'loaded',
    enabled: props.get('UnitFileState') === 'enabled',
    running: props.get('ActiveState') === 'active' && props.get('SubState') === 'running',
    pid: pid > 0 ? pid : undefined,
    detail: `${props.get('ActiveState') ?? 'unknown'} (${props.get('SubState') ?? 'unknown'})`,
    lastExit: status === undefined || status === '' ? undefined : Number(status),
  };
}
