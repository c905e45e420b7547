/**
 * What registering the daemon with the platform's service manager is made of: the command it runs,
 * the files that describe it, and the service manager's own commands. Each platform module
 * (systemd.ts, launchd.ts, task-scheduler.ts) turns a `ServiceSpec` into a `ServiceBackend`; the
 * generic steps (write, run, query, remove) are in manage.ts.
 */

/** What the service runs, fixed when it is installed. */
export interface ServiceSpec {
  /** Absolute path of the Node.js binary (the one running `service install`). */
  node: string;
  /** Absolute path of this installation's `bin/styleset.js`. */
  cli: string;
  /** Arguments after the CLI script: `serve` and the runtime flags given to `service install`. */
  args: string[];
  /**
   * The daemon's environment beyond what the service manager gives every process: the data and
   * config folders this CLI resolved (a service does not see the variables of a login shell) and
   * any `--env NAME=VALUE`.
   */
  env: Record<string, string>;
}

/** Who and where: a parameter, so that every platform's files can be made and checked anywhere. */
export interface ServiceSystem {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  /** POSIX user id (launchd's gui/<uid> domain). */
  uid?: number;
}

export interface ServiceFile {
  path: string;
  content: string;
  /**
   * How it is written: UTF-8, or UTF-16 with a byte-order mark, which Windows Script Host reads as
   * Unicode (without it, the ANSI code page: a user name outside it would be misread).
   */
  encoding?: 'utf8' | 'utf16le-bom';
}

/** One command of the service manager, as argv (never through a shell). */
export interface ServiceCommand {
  file: string;
  args: string[];
  /**
   * A failure that only means "there was nothing to stop" is expected (a first install, an
   * uninstall after a manual removal): it is reported, not fatal.
   */
  mayFail?: boolean;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (command: ServiceCommand) => Promise<CommandResult>;

/** What the platform says about the registration. */
export interface ServiceState {
  /** The service manager knows the service (a unit file loaded, an agent bootstrapped, a task registered). */
  registered: boolean;
  /** It starts at login. */
  enabled: boolean;
  running: boolean;
  pid?: number;
  /** The service manager's own words for the state, e.g. `active (running)`, `Ready`. */
  detail: string;
  /** The last exit status, when the service manager keeps it. */
  lastExit?: number;
}

export interface ServiceBackend {
  /** In words: `systemd user unit`, `launchd agent`, `Task Scheduler task`. */
  kind: string;
  /** The service's name in the service manager. */
  name: string;
  /** The file that registers it (the unit, the plist, the task's XML): its presence means installed. */
  definition: string;
  /** Everything install writes (the definition first). */
  files(spec: ServiceSpec): ServiceFile[];
  /** The paths of those files, which uninstall removes. */
  paths: string[];
  /** Folders install creates besides the files' own (the log folder). */
  folders: string[];
  /** After the files are written: stop an older registration, register, start now. */
  install: ServiceCommand[];
  /** Before the files are removed: stop, unregister. */
  uninstall: ServiceCommand[];
  /** After the files are removed (systemd forgets the unit only on a reload). */
  afterRemoval: ServiceCommand[];
  /** Asks the service manager for the state; `parse` reads its answer. */
  query: ServiceCommand;
  parse(result: CommandResult): ServiceState;
  /** Where the daemon's output goes, and the command that shows it. */
  logs: { where: string; command: string };
}
