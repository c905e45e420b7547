import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { launchdPlist, launcherScript, serviceBackend, systemdUnit, taskXml, type ServiceSpec, type ServiceSystem } from '../../src/service';

// The files each platform's service manager reads, checked by reading them back the way that
// service manager does: systemd's quoting rules, the plist and task XML through an XML parser,
// the cmd.exe line of the Windows launcher split as cmd and the C runtime split it.

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  node: '/opt/node 20/bin/node',
  cli: '/home/ann/.npm-global/lib/node_modules/styleset/bin/styleset.js',
  args: ['serve', '--provider', 'cuda', '--threads', '4'],
  env: { STYLESET_DATA_DIR: '/home/ann/.local/share/styleset', STYLESET_CONFIG_DIR: '/home/ann/.config/styleset' },
  ...over,
});

const linux: ServiceSystem = { platform: 'linux', env: {}, home: '/home/ann', uid: 1000 };
const mac: ServiceSystem = { platform: 'darwin', env: {}, home: '/Users/ann', uid: 501 };
const windows: ServiceSystem = {
  platform: 'win32',
  env: { LOCALAPPDATA: 'C:\\Users\\Ann Lee\\AppData\\Local', USERDOMAIN: 'DESK', USERNAME: 'Ann Lee' },
  home: 'C:\\Users\\Ann Lee',
};

/**
 * systemd.syntax(7): words split on spaces, double quotes with C escapes; then `%%`, and in
 * ExecStart's arguments (not its program) `$$`.
 */
function systemdWords(value: string, exec: boolean): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of value.matchAll(re)) {
    let word = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
    word = word.replace(/%%/g, '%');
    if (exec && words.length > 0) word = word.replace(/\$\$/g, '$');
    words.push(word);
  }
  return words;
}

/** key -> values of a unit's section. */
function unitSection(unit: string, section: string): Map<string, string[]> {
  const body = new RegExp(`^\\[${section}\\]\\n([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(unit)?.[1] ?? '';
  const keys = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    const match = /^(\w+)=(.*)$/.exec(line);
    if (match) keys.set(match[1], [...(keys.get(match[1]) ?? []), match[2]]);
  }
  return keys;
}

describe('the systemd user unit', () => {
  it('runs this Node.js and CLI with serve and its flags, the folders in its environment, restarted on failure, started at login', () => {
    const unit = systemdUnit(spec());
    const service = unitSection(unit, 'Service');
    expect(systemdWords(service.get('ExecStart')![0], true)).toEqual([
      '/opt/node 20/bin/node',
      '/home/ann/.npm-global/lib/node_modules/styleset/bin/styleset.js',
      'serve',
      '--provider',
      'cuda',
      '--threads',
      '4',
    ]);
    expect(service.get('Environment')!.map((e) => systemdWords(e, false))).toEqual([
      ['STYLESET_DATA_DIR=/home/ann/.local/share/styleset'],
      ['STYLESET_CONFIG_DIR=/home/ann/.config/styleset'],
    ]);
    expect(service.get('Restart')).toEqual(['on-failure']);
    expect(service.get('RestartSec')).toEqual(['5']);
    expect(service.get('Type')).toEqual(['simple']);
    expect(unitSection(unit, 'Unit').get('StartLimitBurst')).toEqual(['5']);
    expect(unitSection(unit, 'Install').get('WantedBy')).toEqual(['default.target']);
  });

  it('keeps spaces, quotes, backslashes, % and $ in paths and values literal', () => {
    const program = '/opt/node 100% $HOME/bin/node';
    const odd = '/home/a "b"/100% \\ $HOME/x';
    const unit = systemdUnit(spec({ node: program, cli: `${odd}/styleset.js`, args: ['serve'], env: { STYLESET_DATA_DIR: odd, EXTRA: '50%$PATH' } }));
    const service = unitSection(unit, 'Service');
    expect(systemdWords(service.get('ExecStart')![0], true)).toEqual([program, `${odd}/styleset.js`, 'serve']);
    expect(service.get('Environment')!.map((e) => systemdWords(e, false))).toEqual([[`STYLESET_DATA_DIR=${odd}`], ['EXTRA=50%$PATH']]);
    // Unescaped, `%` would be a specifier and `$` in an argument a variable; the program's `$` is literal.
    expect(service.get('ExecStart')![0]).toMatch(/^"\/opt\/node 100%% \$HOME\/bin\/node" "\/home\/a \\"b\\"\/100%% \\\\ \$\$HOME\/x\/styleset\.js"/);
  });

  it('refuses a Node.js whose path systemd cannot run (quotes, backslashes)', () => {
    expect(() => systemdUnit(spec({ node: "/opt/o'neil/node" }))).toThrow(/systemd cannot run a program whose path holds quotes/);
  });

  it('is written to $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user; a relative XDG_CONFIG_HOME is ignored', () => {
    expect(serviceBackend(linux).definition).toBe('/home/ann/.config/systemd/user/styleset.service');
    expect(serviceBackend({ ...linux, env: { XDG_CONFIG_HOME: '/cfg' } }).definition).toBe('/cfg/systemd/user/styleset.service');
    expect(serviceBackend({ ...linux, env: { XDG_CONFIG_HOME: 'cfg' } }).definition).toBe('/home/ann/.config/systemd/user/styleset.service');
  });

  it('refuses a line break, which would end the setting', () => {
    expect(() => systemdUnit(spec({ env: { X: 'a\nExecStartPre=/bin/evil' } }))).toThrow(/line break/);
  });
});

const xml = new XMLParser({ ignoreAttributes: false, preserveOrder: true, trimValues: false });

/** A plist <dict> as key -> value (strings, booleans, integers, arrays, dicts). */
function plistValue(node: Record<string, unknown>): unknown {
  const [tag] = Object.keys(node).filter((k) => k !== ':@');
  const children = node[tag] as Record<string, unknown>[];
  const text = () => children.map((c) => c['#text'] ?? '').join('');
  switch (tag) {
    case 'string':
      return text();
    case 'integer':
      return Number(text());
    case 'true':
      return true;
    case 'false':
      return false;
    case 'array':
      return children.filter((c) => !('#text' in c)).map(plistValue);
    case 'dict': {
      const items = children.filter((c) => !('#text' in c));
      const out: Record<string, unknown> = {};
      for (let i = 0; i < items.length; i += 2) out[plistValue(items[i]) as string] = plistValue(items[i + 1]);
      return out;
    }
    case 'key':
      return text();
    default:
      throw new Error(`unexpected plist element ${tag}`);
  }
}

describe('the launchd agent', () => {
  it('is a well-formed plist that runs the daemon at load, restarts it only after a failure and logs to ~/Library/Logs', () => {
    const backend = serviceBackend(mac);
    const [file] = backend.files(spec());
    expect(file.path).toBe('/Users/ann/Library/LaunchAgents/styleset.daemon.plist');
    expect(XMLValidator.validate(file.content)).toBe(true);
    const doc = xml.parse(file.content) as Record<string, unknown>[];
    const plist = doc.find((node) => 'plist' in node)!.plist as Record<string, unknown>[];
    const dict = plistValue(plist.find((node) => 'dict' in node)!);
    expect(dict).toEqual({
      Label: 'styleset.daemon',
      ProgramArguments: ['/opt/node 20/bin/node', '/home/ann/.npm-global/lib/node_modules/styleset/bin/styleset.js', 'serve', '--provider', 'cuda', '--threads', '4'],
      EnvironmentVariables: { STYLESET_DATA_DIR: '/home/ann/.local/share/styleset', STYLESET_CONFIG_DIR: '/home/ann/.config/styleset' },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 10,
      StandardOutPath: '/Users/ann/Library/Logs/Styleset/daemon.log',
      StandardErrorPath: '/Users/ann/Library/Logs/Styleset/daemon.log',
    });
    expect(backend.folders).toEqual(['/Users/ann/Library/Logs/Styleset']);
  });

  it('escapes XML in paths', () => {
    const content = launchdPlist(spec({ cli: '/Users/a&b/<x>/styleset.js' }), '/tmp/log');
    expect(XMLValidator.validate(content)).toBe(true);
    expect(content).toContain('<string>/Users/a&amp;b/&lt;x&gt;/styleset.js</string>');
  });

  it('is booted into the gui/<uid> domain', () => {
    const backend = serviceBackend(mac);
    expect(backend.install.map((c) => [c.file, ...c.args].join(' '))).toEqual([
      'launchctl bootout gui/501/styleset.daemon',
      'launchctl enable gui/501/styleset.daemon',
      'launchctl bootstrap gui/501 /Users/ann/Library/LaunchAgents/styleset.daemon.plist',
    ]);
    expect(backend.install[0].mayFail).toBe(true);
  });
});

/** How cmd.exe /s /c takes its line (outer quotes stripped), then how the C runtime splits the program's arguments. */
function cmdLine(command: string): { argv: string[]; redirect: string } {
  const match = /^cmd\.exe \/d \/s \/c "(.*)"$/.exec(command);
  if (match === null) throw new Error(`not a cmd /s /c line: ${command}`);
  const redirect = /^(.*) >> "([^"]*)" 2>&1$/.exec(match[1]);
  if (redirect === null) throw new Error(`no log redirection: ${match[1]}`);
  const argv = [...redirect[1].matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
  return { argv, redirect: redirect[2] };
}

describe('the Windows task and its launcher', () => {
  const backend = serviceBackend(windows);
  const winSpec = spec({
    node: 'C:\\Program Files\\nodejs\\node.exe',
    cli: 'C:\\Users\\Ann Lee\\AppData\\Roaming\\npm\\node_modules\\styleset\\bin\\styleset.js',
    env: { STYLESET_DATA_DIR: 'C:\\Users\\Ann Lee\\AppData\\Local\\Styleset\\Data', STYLESET_CONFIG_DIR: 'C:\\Users\\Ann Lee\\AppData\\Roaming\\Styleset\\Config', NOTE: 'say "hi"' },
  });
  const [task, launcher] = backend.files(winSpec);

  it('is a task XML for this user at logon, without a time limit, that runs the launcher under wscript', () => {
    expect(task.path).toBe('C:\\Users\\Ann Lee\\AppData\\Local\\Styleset\\Service\\styleset-daemon.xml');
    expect(XMLValidator.validate(task.content)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(task.content).Task;
    expect(parsed['@_xmlns']).toBe('http://schemas.microsoft.com/windows/2004/02/mit/task');
    expect(parsed.Triggers.LogonTrigger).toEqual({ Enabled: true, UserId: 'DESK\\Ann Lee' });
    expect(parsed.Principals.Principal).toMatchObject({ UserId: 'DESK\\Ann Lee', LogonType: 'InteractiveToken', RunLevel: 'LeastPrivilege' });
    expect(parsed.Settings).toMatchObject({
      ExecutionTimeLimit: 'PT0S',
      MultipleInstancesPolicy: 'IgnoreNew',
      DisallowStartIfOnBatteries: false,
      StopIfGoingOnBatteries: false,
      RestartOnFailure: { Interval: 'PT1M', Count: 3 },
    });
    expect(parsed.Actions.Exec).toEqual({ Command: 'wscript.exe', Arguments: `//B //Nologo "${launcher.path}"` });
  });

  it('has a launcher, in UTF-16 for Windows Script Host, that sets the environment and runs the daemon hidden with its output in the log, again after a failure', () => {
    expect(launcher.path).toBe('C:\\Users\\Ann Lee\\AppData\\Local\\Styleset\\Service\\styleset-daemon.vbs');
    expect(launcher.encoding).toBe('utf16le-bom');
    const lines = launcher.content.split('\r\n');
    // VBScript string literals: "" is one quote.
    const literal = (text: string) => text.replace(/^"|"$/g, '').replace(/""/g, '"');
    const env = lines.map((line) => /^env\(("[^"]*")\) = (".*")$/.exec(line)).filter((m) => m !== null).map((m) => [literal(m![1]), literal(m![2])]);
    expect(Object.fromEntries(env)).toEqual(winSpec.env);
    const run = lines.map((line) => /^ {2}code = shell\.Run\((".*"), 0, True\)$/.exec(line)).find((m) => m !== null)!;
    const { argv, redirect } = cmdLine(literal(run[1]));
    expect(argv).toEqual([winSpec.node, winSpec.cli, ...winSpec.args]);
    expect(redirect).toBe('C:\\Users\\Ann Lee\\AppData\\Local\\Styleset\\Logs\\daemon.log');
    // Exit 0 is a stop on purpose; anything else runs it again after a pause, up to 5 quick failures.
    expect(lines).toContain('  If code = 0 Then Exit Do');
    expect(lines).toContain('  WScript.Sleep 10000');
    expect(lines).toContain('  If failures >= 5 Then Exit Do');
    expect(lines.at(-2)).toBe('WScript.Quit code');
  });

  it('refuses a path with % or ", which cmd.exe would expand or end the argument at', () => {
    expect(() => launcherScript(spec({ cli: 'C:\\100%\\styleset.js' }), 'C:\\log')).toThrow(/holds ", % or a line break/);
  });

  it('registers through PowerShell, stopping the launcher tree first', () => {
    expect(backend.install.map((c) => c.file)).toEqual(['powershell.exe', 'powershell.exe', 'powershell.exe']);
    expect(backend.install[0]).toMatchObject({ mayFail: true });
    expect(backend.install[0].args.at(-1)).toContain(`Contains('${launcher.path}')`);
    expect(backend.install[1].args.at(-1)).toBe(`Register-ScheduledTask -TaskName 'Styleset daemon' -Xml (Get-Content -Raw -Encoding UTF8 -LiteralPath '${task.path}') -Force | Out-Null`);
    expect(backend.install[2].args.at(-1)).toBe("Start-ScheduledTask -TaskName 'Styleset daemon'");
    expect(backend.paths).toEqual([task.path, launcher.path]);
  });

  it('escapes the user name in the task XML', () => {
    expect(XMLValidator.validate(taskXml('DESK\\A&B <x>', 'C:\\l.vbs'))).toBe(true);
  });
});

describe('other platforms', () => {
  it('get an error that names the three service managers', () => {
    expect(() => serviceBackend({ platform: 'freebsd', env: {}, home: '/home/ann' })).toThrow(/systemd \(Linux\), launchd \(macOS\) and Task Scheduler \(Windows\), not freebsd/);
  });
});
