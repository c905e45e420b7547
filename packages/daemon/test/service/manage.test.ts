import { describe, expect, it } from 'vitest';
import {
  installService,
  serviceBackend,
  serviceStatus,
  uninstallService,
  type CommandResult,
  type ServiceCommand,
  type ServiceIo,
  type ServiceSpec,
  type ServiceSystem,
} from '../../src/service';

// install / status / uninstall against a recorded file system and service manager: the order of
// what happens, which failures stop it, and how each service manager's answer is read.

const spec: ServiceSpec = { node: '/usr/bin/node', cli: '/opt/styleset/bin/styleset.js', args: ['serve'], env: { STYLESET_DATA_DIR: '/d', STYLESET_CONFIG_DIR: '/c' } };
const linux: ServiceSystem = { platform: 'linux', env: {}, home: '/home/ann', uid: 1000 };
const mac: ServiceSystem = { platform: 'darwin', env: {}, home: '/Users/ann', uid: 501 };
const windows: ServiceSystem = { platform: 'win32', env: { LOCALAPPDATA: 'C:\\L', USERNAME: 'ann' }, home: 'C:\\Users\\ann' };

/** A file system and a service manager that record every call; `answer` decides each command's result. */
function recorder(answer: (command: ServiceCommand) => CommandResult) {
  const log: string[] = [];
  const files = new Map<string, string>();
  const io: ServiceIo = {
    run: async (command) => {
      log.push(`run ${command.file} ${command.args.join(' ')}`);
      return answer(command);
    },
    writeFile: async ({ path, content }) => {
      log.push(`write ${path}`);
      files.set(path, content);
    },
    mkdir: async (path) => {
      log.push(`mkdir ${path}`);
    },
    remove: async (path) => {
      log.push(`remove ${path}`);
      files.delete(path);
    },
    exists: async (path) => files.has(path),
  };
  return { io, log, files };
}

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
const SHOW_RUNNING = 'LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nUnitFileState=enabled\nExecMainStatus=0\n';
const SHOW_GONE = 'LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\nUnitFileState=\nExecMainStatus=0\n';

describe('install', () => {
  it('writes the unit, then reloads, enables and restarts it, and reports the state systemd gives', async () => {
    const { io, log, files } = recorder((c) => (c.args[1] === 'show' ? ok(SHOW_RUNNING) : ok()));
    const report = await installService(serviceBackend(linux), spec, io);
    expect(log).toEqual([
      'mkdir /home/ann/.config/systemd/user',
      'write /home/ann/.config/systemd/user/styleset.service',
      'run systemctl --user daemon-reload',
      'run systemctl --user enable styleset.service',
      'run systemctl --user restart styleset.service',
      'run systemctl --user show styleset.service --property=LoadState,ActiveState,SubState,MainPID,UnitFileState,ExecMainStatus',
    ]);
    expect(files.get('/home/ann/.config/systemd/user/styleset.service')).toContain('ExecStart="/usr/bin/node" "/opt/styleset/bin/styleset.js" "serve"');
    expect(report.state).toEqual({ registered: true, enabled: true, running: true, pid: 4242, detail: 'active (running)', lastExit: 0 });
  });

  it('stops at a failed registration, naming the command, what it said and the file it left', async () => {
    const { io, log } = recorder((c) => (c.args[1] === 'daemon-reload' ? { code: 1, stdout: '', stderr: 'Failed to connect to bus: No medium found' } : ok()));
    await expect(installService(serviceBackend(linux), spec, io)).rejects.toMatchObject({
      code: 'service_failed',
      message:
        'systemctl --user daemon-reload failed (exit 1: Failed to connect to bus: No medium found). /home/ann/.config/systemd/user/styleset.service is written; it takes effect at your next login, or run the command again once the problem is fixed',
    });
    expect(log.filter((line) => line.startsWith('run'))).toEqual(['run systemctl --user daemon-reload']);
  });

  it('says a missing service manager is missing', async () => {
    const { io } = recorder(() => ({ code: 127, stdout: '', stderr: 'spawn systemctl ENOENT' }));
    await expect(installService(serviceBackend(linux), spec, io)).rejects.toThrow('systemctl --user daemon-reload failed (not found: spawn systemctl ENOENT)');
  });

  it('on macOS boots out an agent loaded before (which may not be there), the log folder made first', async () => {
    const { io, log } = recorder((c) => (c.args[0] === 'bootout' ? { code: 113, stdout: '', stderr: 'Could not find service' } : ok()));
    await installService(serviceBackend(mac), spec, io);
    expect(log.slice(0, 6)).toEqual([
      'mkdir /Users/ann/Library/Logs/Styleset',
      'mkdir /Users/ann/Library/LaunchAgents',
      'write /Users/ann/Library/LaunchAgents/styleset.daemon.plist',
      'run launchctl bootout gui/501/styleset.daemon',
      'run launchctl enable gui/501/styleset.daemon',
      'run launchctl bootstrap gui/501 /Users/ann/Library/LaunchAgents/styleset.daemon.plist',
    ]);
  });
});

describe('uninstall', () => {
  it('disables and stops the unit, removes it and reloads; a unit that is not loaded is no error', async () => {
    const { io, log, files } = recorder((c) => (c.args[1] === 'disable' ? { code: 1, stdout: '', stderr: 'Unit styleset.service not loaded.' } : c.args[1] === 'show' ? ok(SHOW_GONE) : ok()));
    files.set('/home/ann/.config/systemd/user/styleset.service', 'x');
    const report = await uninstallService(serviceBackend(linux), io);
    expect(log).toEqual([
      'run systemctl --user disable --now styleset.service',
      'remove /home/ann/.config/systemd/user/styleset.service',
      'run systemctl --user daemon-reload',
      'run systemctl --user show styleset.service --property=LoadState,ActiveState,SubState,MainPID,UnitFileState,ExecMainStatus',
    ]);
    expect(report.removed).toEqual(['/home/ann/.config/systemd/user/styleset.service']);
    expect(report.state).toMatchObject({ registered: false, running: false });
  });

  it('on Windows stops the launcher tree, unregisters the task and removes both files', async () => {
    const { io, log, files } = recorder(() => ok('{"State":"Ready","Enabled":true,"LastTaskResult":0}'));
    files.set('C:\\L\\Styleset\\Service\\styleset-daemon.xml', 'x');
    files.set('C:\\L\\Styleset\\Service\\styleset-daemon.vbs', 'x');
    const report = await uninstallService(serviceBackend(windows), io);
    // Each PowerShell script by its first command.
    expect(log.map((line) => line.replace(' -NoProfile -NonInteractive -Command', '').split(' ').slice(0, 3).join(' '))).toEqual([
      'run powershell.exe Get-CimInstance',
      'run powershell.exe Unregister-ScheduledTask',
      'remove C:\\L\\Styleset\\Service\\styleset-daemon.xml',
      'remove C:\\L\\Styleset\\Service\\styleset-daemon.vbs',
      'run powershell.exe $t',
    ]);
    expect(report.removed).toHaveLength(2);
  });
});

describe('status, as each service manager answers', () => {
  it('systemd: a unit that failed and stopped restarting', async () => {
    const { io } = recorder(() => ok('LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nUnitFileState=enabled\nExecMainStatus=2\n'));
    expect(await serviceStatus(serviceBackend(linux), io)).toEqual({
      installed: false,
      state: { registered: true, enabled: true, running: false, pid: undefined, detail: 'failed (failed)', lastExit: 2 },
    });
  });

  it('launchd: a running agent, and one that is not loaded', async () => {
    const print = [
      'gui/501/styleset.daemon = {',
      '\tactive count = 1',
      '\tpath = /Users/ann/Library/LaunchAgents/styleset.daemon.plist',
      '\ttype = LaunchAgent',
      '\tstate = running',
      '',
      '\tprogram = /usr/local/bin/node',
      '\tpid = 913',
      '\tlast exit code = (never exited)',
      '}',
    ].join('\n');
    const running = recorder(() => ok(print));
    expect((await serviceStatus(serviceBackend(mac), running.io)).state).toEqual({ registered: true, enabled: true, running: true, pid: 913, detail: 'running', lastExit: undefined });
    const missing = recorder(() => ({ code: 113, stdout: '', stderr: 'Could not find service "styleset.daemon" in domain for user gui: 501\n' }));
    expect((await serviceStatus(serviceBackend(mac), missing.io)).state).toEqual({
      registered: false,
      enabled: false,
      running: false,
      detail: 'Could not find service "styleset.daemon" in domain for user gui: 501',
    });
  });

  it('Task Scheduler: a running task, and one that is not registered', async () => {
    const running = recorder(() => ok('{"State":"Running","Enabled":true,"LastTaskResult":267009}\r\n'));
    expect((await serviceStatus(serviceBackend(windows), running.io)).state).toEqual({ registered: true, enabled: true, running: true, detail: 'Running', lastExit: 267009 });
    const missing = recorder(() => ({ code: 1, stdout: '', stderr: 'Get-ScheduledTask : No MSFT_ScheduledTask objects found with property \'TaskName\' equal to \'Styleset daemon\'.' }));
    expect((await serviceStatus(serviceBackend(windows), missing.io)).state).toMatchObject({ registered: false, running: false });
  });
});
