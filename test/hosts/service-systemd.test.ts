import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemdUnit } from '../../packages/daemon/src/service';

// The systemd user unit `styleset service install` writes, checked by systemd itself:
// `systemd-analyze --user verify` parses it as the user's service manager would and fails on an
// setting it cannot parse or an ExecStart whose program is not there, so it also proves that the quoting
// of odd paths leads systemd to the right file. Debian's systemd package provides the tool
// (.ci/install-hosts); systemd need not run, let alone as PID 1.

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', 'packages', 'daemon', 'dist', 'cli.js');
let work: string;

/** rc and everything it said; a unit that verifies cleanly says nothing. */
async function verify(unitFile: string): Promise<{ code: number; output: string }> {
  const runtime = join(work, 'runtime');
  await mkdir(runtime, { recursive: true, mode: 0o700 });
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['--user', 'verify', unitFile], { env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code: number | string; stdout: string; stderr: string };
    if (e.code === 'ENOENT') throw new Error('systemd-analyze is not installed: .ci/install-hosts installs Debian\'s systemd package (its tools; systemd does not start)');
    return { code: Number(e.code), output: `${e.stdout}${e.stderr}` };
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'styleset-systemd-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the systemd user unit, by systemd-analyze verify', () => {
  it('as the bundled CLI writes it (service install --dry-run) is valid', async () => {
    const home = join(work, 'home');
    await mkdir(home);
    const { stdout } = await run(process.execPath, [cli, 'service', 'install', '--dry-run', '--json', '--provider', 'cpu', '--threads', '2', '--env', 'LD_LIBRARY_PATH=/usr/local/cuda/lib64'], {
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', STYLESET_DATA_DIR: '', STYLESET_CONFIG_DIR: '' },
    });
    const [file] = (JSON.parse(stdout) as { files: { path: string; content: string }[] }).files;
    expect(file.path).toBe(join(home, '.config', 'systemd', 'user', 'styleset.service'));
    const unit = join(work, 'styleset.service');
    await writeFile(unit, file.content);
    expect(await verify(unit)).toEqual({ code: 0, output: '' });
  });

  it('with spaces, % and $ in the program\'s path, and quotes and backslashes in the others, is valid, and systemd finds the program through the quoting', async () => {
    // systemd refuses quotes and backslashes in the program's own path however they are escaped
    // (systemdUnit refuses them too); the arguments and the environment may hold anything.
    const programDir = join(work, 'node 100% $HOME dir');
    const odd = join(work, 'a dir with "quotes" and \\ too');
    await Promise.all([mkdir(programDir, { recursive: true }), mkdir(odd, { recursive: true })]);
    const node = join(programDir, 'node');
    await symlink(process.execPath, node);
    await copyFile(cli, join(odd, 'styleset.js'));
    await chmod(join(odd, 'styleset.js'), 0o644);
    const content = systemdUnit({ node, cli: join(odd, 'styleset.js'), args: ['serve'], env: { STYLESET_DATA_DIR: odd, STYLESET_CONFIG_DIR: `${odd}/100% $HOME` } });
    const unit = join(work, 'odd', 'styleset.service');
    await mkdir(join(work, 'odd'));
    await writeFile(unit, content);
    expect(await verify(unit)).toEqual({ code: 0, output: '' });
    // The control: the same unit naming a program that is not there fails, naming it.
    const missing = join(work, 'missing', 'styleset.service');
    await mkdir(join(work, 'missing'));
    await writeFile(missing, systemdUnit({ node: `${node}-not-there`, cli: join(odd, 'styleset.js'), args: ['serve'], env: {} }));
    const failed = await verify(missing);
    expect(failed.code).not.toBe(0);
    expect(failed.output).toContain(`Command ${node}-not-there is not executable`);
  });
});
