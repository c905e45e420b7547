import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/free-port';

/**
 * code-server (VS Code in a browser) as `.ci/install-code-server` installs it: one pinned version
 * in a cache folder outside the repository. A missing install fails the run, saying how to install.
 */

const repo = join(import.meta.dirname, '../../..');

/** The version `.ci/install-code-server` pins, read from the script so that the two cannot drift. */
async function pinnedVersion(): Promise<string> {
  const script = await readFile(join(repo, '.ci/install-code-server'), 'utf8');
  const version = /^VERSION=(\S+)$/m.exec(script)?.[1];
  if (version === undefined) throw new Error('.ci/install-code-server names no VERSION');
  return version;
}

/** code-server's entry point (out/node/entry.js), or an error that says how to install it. */
export async function codeServerEntry(): Promise<string> {
  const version = await pinnedVersion();
  const cache = process.env.STYLESET_HOSTS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'styleset-hosts');
  const folder = join(cache, `code-server-${version}`);
  const entry = join(folder, 'node_modules/code-server/out/node/entry.js');
  if (!existsSync(join(folder, '.styleset-installed')) || !existsSync(entry)) {
    throw new Error(`code-server ${version} is not installed in ${folder}: run .ci/install-code-server (or .ci/install-hosts), which installs it from the npm registry`);
  }
  return entry;
}

export interface CodeServerOptions {
  /** The folder VS Code opens. */
  workspace: string;
  /** Everything code-server keeps (settings, extensions, logs) lives here. */
  home: string;
  /** User settings (and machine settings: the daemon URL is machine-scoped). */
  settings: Record<string, unknown>;
  /** .vsix files installed before it starts. */
  extensions: string[];
}

export interface CodeServer {
  /** The workbench with the workspace open. */
  url: string;
  /** What code-server printed: for a failing test's message. */
  log(): string;
  close(): Promise<void>;
}

/** Installs the extensions, then serves VS Code on a free loopback port without authentication. */
export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const entry = await codeServerEntry();
  const userData = join(options.home, 'user-data');
  const extensions = join(options.home, 'extensions');
  const config = join(options.home, 'config.yaml');
  const port = await freePort();
  await mkdir(join(userData, 'User'), { recursive: true });
  await mkdir(join(userData, 'Machine'), { recursive: true });
  const settings = JSON.stringify(options.settings, null, 2);
  await writeFile(join(userData, 'User/settings.json'), settings);
  await writeFile(join(userData, 'Machine/settings.json'), settings);
  // Its own config file, so that it neither reads nor writes ~/.config/code-server.
  await writeFile(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const env = { ...process.env, XDG_CONFIG_HOME: join(options.home, 'xdg-config'), XDG_DATA_HOME: join(options.home, 'xdg-data') };
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];
  for (const vsix of options.extensions) {
    await promisify(execFile)(process.execPath, [entry, ...common, '--install-extension', vsix], { env });
  }
  const child = spawn(
    process.execPath,
    [entry, ...common, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', options.workspace],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}`;
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, child, () => output);
  return {
    url,
    log: () => output,
    close: () => stop(child),
  };
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${log()}`);
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`code-server did not answer at ${url} within a minute:\n${log()}`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

