import { win32 } from 'node:path';
import type { CommandResult, ServiceBackend, ServiceCommand, ServiceSpec, ServiceState, ServiceSystem } from './service-spec';
import { xmlText } from './xml-text';

/** The task's name in Task Scheduler's root folder. */
export const TASK_NAME = 'Styleset daemon';

/** The launcher starts a failed daemon again after this long, and gives up after this many quick failures in a row. */
const RESTART_SECONDS = 10;
const QUICK_FAILURES = 5;
/** A run shorter than this that fails counts as a quick failure. */
const QUICK_SECONDS = 60;

/**
 * A Task Scheduler task of the current user, started at their logon. Node.js is a console program,
 * and a task that runs one directly opens a console window, so the task runs a small script under
 * wscript (no window) that starts the daemon hidden, appends its output to a log file in
 * %LOCALAPPDATA% (Windows keeps no per-user service log that a user may write to without
 * administrator rights), and starts it again when it exits with a failure.
 */
export function taskSchedulerBackend(system: ServiceSystem): ServiceBackend {
  const local = system.env.LOCALAPPDATA || win32.join(system.home, 'AppData', 'Local');
  const serviceDir = win32.join(local, 'Styleset', 'Service');
  const definition = win32.join(serviceDir, 'styleset-daemon.xml');
  const launcher = win32.join(serviceDir, 'styleset-daemon.vbs');
  const logDir = win32.join(local, 'Styleset', 'Logs');
  const log = win32.join(logDir, 'daemon.log');
  const user = system.env.USERDOMAIN && system.env.USERNAME ? `${system.env.USERDOMAIN}\\${system.env.USERNAME}` : (system.env.USERNAME ?? '');
  const task = psString(TASK_NAME);
  // Ending the task ends wscript alone: the daemon and its engine process are its children, so the
  // launcher's process tree goes first.
  const stop = powershell(
    `Get-CimInstance Win32_Process -Filter "Name = 'wscript.exe'" | Where-Object { $_.CommandLine -and $_.CommandLine.Contains(${psString(launcher)}) } | ForEach-Object { taskkill.exe /PID $_.ProcessId /T /F | Out-Null }; ` +
      `Stop-ScheduledTask -TaskName ${task} -ErrorAction SilentlyContinue`,
  );
  return {
    kind: 'Task Scheduler task',
    name: TASK_NAME,
    definition,
    files: (spec) => [
      { path: definition, content: taskXml(user, launcher) },
      { path: launcher, content: launcherScript(spec, log), encoding: 'utf16le-bom' },
    ],
    paths: [definition, launcher],
    folders: [logDir],
    install: [
      { ...stop, mayFail: true },
      powershell(`Register-ScheduledTask -TaskName ${task} -Xml (Get-Content -Raw -Encoding UTF8 -LiteralPath ${psString(definition)}) -Force | Out-Null`),
      powershell(`Start-ScheduledTask -TaskName ${task}`),
    ],
    uninstall: [
      { ...stop, mayFail: true },
      { ...powershell(`Unregister-ScheduledTask -TaskName ${task} -Confirm:$false`), mayFail: true },
    ],
    afterRemoval: [],
    query: powershell(
      `$t = Get-ScheduledTask -TaskName ${task} -ErrorAction Stop; $i = Get-ScheduledTaskInfo -InputObject $t; ` +
        `[pscustomobject]@{ State = [string]$t.State; Enabled = [bool]$t.Settings.Enabled; LastTaskResult = [int64]$i.LastTaskResult } | ConvertTo-Json -Compress`,
    ),
    parse: parseTaskInfo,
    logs: { where: log, command: `Get-Content -Wait -Tail 50 "${log}"` },
  };
}

/** Task Scheduler's schema 1.2: a logon trigger for this user, no time limit, kept alive on battery. */
export function taskXml(user: string, launcher: string): string {
  const userId = user === '' ? [] : [`      <UserId>${xmlText(user)}</UserId>`];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Written by `styleset service install`; `styleset service uninstall` removes it. -->',
    '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    '    <Description>Styleset daemon: style-consistent asset sets for the Figma plugin and the VS Code extension</Description>',
    '  </RegistrationInfo>',
    '  <Triggers>',
    '    <LogonTrigger>',
    '      <Enabled>true</Enabled>',
    ...userId,
    '    </LogonTrigger>',
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author">',
    ...userId.map((line) => `  ${line}`),
    '      <LogonType>InteractiveToken</LogonType>',
    '      <RunLevel>LeastPrivilege</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <RestartOnFailure>',
    '      <Interval>PT1M</Interval>',
    '      <Count>3</Count>',
    '    </RestartOnFailure>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    '      <Command>wscript.exe</Command>',
    `      <Arguments>${xmlText(`//B //Nologo "${launcher}"`)}</Arguments>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\n');
}

/**
 * The launcher: the environment, then the daemon in a hidden window through cmd (for the log
 * redirection), again after a failure; it exits with the daemon's last exit code.
 */
export function launcherScript(spec: ServiceSpec, log: string): string {
  const command = `cmd.exe /d /s /c "${[spec.node, spec.cli, ...spec.args].map(cmdArgument).join(' ')} >> ${cmdArgument(log)} 2>&1"`;
  return [
    "' Written by `styleset service install`; `styleset service uninstall` removes it.",
    "' Runs the Styleset daemon without a window, its output appended to the log; starts it again",
    `' ${RESTART_SECONDS} s after it fails, and gives up after ${QUICK_FAILURES} failures in a row within ${QUICK_SECONDS} s of their start.`,
    'Option Explicit',
    'Dim shell, env, started, failures, code',
    'Set shell = CreateObject("WScript.Shell")',
    'Set env = shell.Environment("Process")',
    ...Object.entries(spec.env).map(([name, value]) => `env(${vbsString(name)}) = ${vbsString(value)}`),
    'failures = 0',
    'Do',
    '  started = Now',
    `  code = shell.Run(${vbsString(command)}, 0, True)`,
    '  If code = 0 Then Exit Do',
    `  If DateDiff("s", started, Now) < ${QUICK_SECONDS} Then failures = failures + 1 Else failures = 1`,
    `  If failures >= ${QUICK_FAILURES} Then Exit Do`,
    `  WScript.Sleep ${RESTART_SECONDS * 1000}`,
    'Loop',
    'WScript.Quit code',
    '',
  ].join('\r\n');
}

/** One argument of the cmd.exe line: quoted; `%` would expand a variable even inside quotes. */
function cmdArgument(value: string): string {
  if (/["%\r\n]/.test(value)) throw new Error(`the Windows service cannot pass ${JSON.stringify(value)}: it holds ", % or a line break`);
  return `"${value}"`;
}

function vbsString(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`a service setting cannot hold a line break: ${JSON.stringify(value)}`);
  return `"${value.replace(/"/g, '""')}"`;
}

function psString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function powershell(script: string): ServiceCommand {
  return { file: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-Command', script] };
}

function parseTaskInfo(result: CommandResult): ServiceState {
  if (result.code !== 0) {
    return { registered: false, enabled: false, running: false, detail: (result.stderr || result.stdout).trim() || `powershell exited with ${result.code}` };
  }
  let info: { State: string; Enabled: boolean; LastTaskResult: number };
  try {
    info = JSON.parse(result.stdout) as typeof info;
  } catch {
    return { registered: true, enabled: false, running: false, detail: `unexpected answer from Get-ScheduledTask: ${result.stdout.trim()}` };
  }
  return {
    registered: true,
    enabled: info.Enabled,
    running: info.State === 'Running',
    detail: info.State,
    lastExit: info.LastTaskResult,
  };
}
