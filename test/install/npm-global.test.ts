import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { PROTOCOL_VERSION } from '@styleset/protocol';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNpmPackage, type NpmPackage } from '../../scripts/release/npm-package';
import { defaultModelDir } from '../../packages/daemon/src/model/default-model';
import { readModelLayout } from '../../packages/daemon/src/model/layout';
import { endsJob, Wire } from '../support/wire';

// The npm package as a user gets it: `npm install -g --prefix <empty> styleset-X.tgz --ignore-scripts`
// (the README's Install command; its dependencies from the registry, or npm's cache), then the
// installed `styleset` run from an unrelated folder with a fresh home: generate on the embedded
// model, serve answering a real client, doctor and the service's files. Nothing of this clone may
// be used: every path the installed copy reports, and every file its processes map, lies in the
// prefix.

const root = realpathSync(join(import.meta.dirname, '..', '..'));
const run = promisify(execFile);
const PROMPTS = ['a star icon', 'a heart icon'];
const SEED = 3;
const STEPS = 8;

let work: string;
let prefix: string;
let home: string;
let cwd: string;
let pkg: NpmPackage;
let installed: string;
let styleset: string;
let generated: Map<string, Buffer>;

/**
 * The environment of a user's shell: none of npm's script variables (npm test sets the project's
 * .npmrc keys as npm_config_*), no Styleset or XDG folders, a home of its own; this Node.js first.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|styleset_|xdg_)/i.test(key) && key !== 'INIT_CWD' && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, HOME: home, USERPROFILE: home, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter) };
}

async function stylesetJson(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(styleset, [...args, '--json'], { cwd, env: userEnv() });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

function packageJsons(dir: string): { name: string; dir: string; manifest: Record<string, unknown> }[] {
  const found = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      const pkgDir = join(dir, name);
      const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
      found.push({ name, dir: pkgDir, manifest });
      if (existsSync(join(pkgDir, 'node_modules'))) found.push(...packageJsons(join(pkgDir, 'node_modules')));
    }
  }
  return found;
}

/** The files a process has mapped (its native modules and libraries), from /proc. */
function mappedFiles(pid: number): string[] {
  const paths = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '))
    .filter((path) => path.startsWith('/'));
  return [...new Set(paths)];
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        // Field 4 of stat is the parent pid; the name (field 2) is in parentheses and may hold spaces.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(async () => {
  work = realpathSync(await mkdtemp(join(tmpdir(), 'styleset-install-')));
  [prefix, home, cwd] = [join(work, 'prefix'), join(work, 'home'), join(work, 'cwd')];
  await Promise.all([mkdir(home), mkdir(cwd)]);
  pkg = await buildNpmPackage(root, join(work, 'pack'));
  await run('npm', ['install', '-g', '--prefix', prefix, pkg.file, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd, env: userEnv() });
  installed = process.platform === 'win32' ? join(prefix, 'node_modules', 'styleset') : join(prefix, 'lib', 'node_modules', 'styleset');
  styleset = join(prefix, 'bin', 'styleset');
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

// Generous limits: in `npm test` this file shares two cores with the other test files.
describe('npm install -g styleset --ignore-scripts, into an empty prefix', { timeout: 180_000 }, () => {
  it('installs the package and its runtime dependencies, none of the dev tooling; only onnxruntime-node and msgpackr-extract have install scripts', () => {
    expect(realpathSync(styleset)).toBe(join(installed, 'bin', 'styleset.js'));
    const deps = packageJsons(join(installed, 'node_modules'));
    const names = new Set(deps.map((d) => d.name));
    for (const name of Object.keys(pkg.dependencies)) expect(names).toContain(name);
    for (const tool of ['esbuild', 'typescript', 'vitest', 'tsx', '@vscode/vsce', 'playwright-core', 'happy-dom', 'msw', 'protobufjs', 'zod', '@styleset/protocol']) expect(names).not.toContain(tool);
    const withScripts = deps.filter(({ dir, manifest }) => {
      const scripts = (manifest.scripts ?? {}) as Record<string, string>;
      return ['preinstall', 'install', 'postinstall'].some((s) => s in scripts) || existsSync(join(dir, 'binding.gyp'));
    });
    expect(withScripts.map((d) => d.name).sort()).toEqual(['msgpackr-extract', 'onnxruntime-node']);
    // msgpackr-extract's script (BullMQ's optional native MessagePack decoder, team mode) only
    // builds from source where no prebuilt package fits; this platform's is installed without it.
    const prebuilt = `@msgpackr-extract/msgpackr-extract-${process.platform}-${process.arch}`;
    if (['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'].includes(`${process.platform}-${process.arch}`)) expect(names).toContain(prebuilt);
    // What that script would have fetched on Linux x64 is not there; the CPU provider is.
    const bin = join(installed, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    expect(readdirSync(bin)).toContain('onnxruntime_binding.node');
    expect(readdirSync(bin).filter((f) => f.includes('providers_cuda'))).toEqual([]);
  });

  it('styleset generate runs the embedded model from an unrelated folder, PNGs and SVGs', async () => {
    const out = join(cwd, 'set');
    await run(styleset, ['generate', ...PROMPTS, '--seed', String(SEED), '--steps', String(STEPS), '--format', 'both', '--no-progress', '--json', '-o', out], { cwd, env: userEnv() });
    const record = JSON.parse(await readFile(join(out, 'set.json'), 'utf8'));
    expect(record.model).toEqual({ id: 'default', kind: 'default', path: join(installed, 'models', 'default') });
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['01-a-star-icon.png', '01-a-star-icon.svg', '02-a-heart-icon.png', '02-a-heart-icon.svg', 'set.json']);
    generated = new Map(await Promise.all(files.filter((f) => f.endsWith('.png')).map(async (f) => [f, await readFile(join(out, f))] as const)));
    // The embedded model's native size (the installed copy is this checkout's model).
    const { nativeWidth, nativeHeight } = await readModelLayout(defaultModelDir());
    for (const png of generated.values()) expect([PNG.sync.read(png).width, PNG.sync.read(png).height]).toEqual([nativeWidth, nativeHeight]);
    expect((await readFile(join(out, '01-a-star-icon.svg'), 'utf8')).startsWith('<svg')).toBe(true);
  });

  it('styleset serve answers a real client with the same images, from the installed files alone', async () => {
    const serve: ChildProcess = spawn(styleset, ['serve', '--port', '0', '--json'], { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    serve.stderr!.on('data', (chunk) => (stderr += String(chunk)));
    try {
      const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
        serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
        createInterface({ input: serve.stdout! }).on('line', (line) => {
          const event = JSON.parse(line) as Record<string, unknown>;
          if (event.type === 'listening') resolve(event);
        });
      });
      expect(listening.dataDir).toBe(join(home, '.local', 'share', 'styleset'));
      const { nativeWidth, nativeHeight } = await readModelLayout(defaultModelDir());
      expect(listening.models).toEqual([{ id: 'default', kind: 'default', width: nativeWidth, height: nativeHeight, path: join(installed, 'models', 'default') }]);
      const token = (await readFile(join(home, '.config', 'styleset', 'token'), 'utf8')).trim();
      const { wire, welcome } = await Wire.open(listening.url as string, token);
      try {
        expect(welcome.message).toMatchObject({ type: 'welcome', daemonVersion: pkg.version, defaultModel: 'default' });
        const images = new Map<number, Buffer>();
        const off = wire.on(({ message, bytes }) => {
          if (message.type === 'result' && message.id === 'job') images.set(message.index, Buffer.from(bytes!));
        });
        const end = wire.next((a) => endsJob(a, 'job'));
        wire.send({ v: PROTOCOL_VERSION, id: 'job', type: 'submit', kind: 'set', prompts: PROMPTS, options: { seed: SEED, steps: STEPS } });
        expect((await end).message.type).toBe('done');
        off();
        expect([...images.keys()].sort()).toEqual([0, 1]);
        expect(Buffer.compare(images.get(0)!, generated.get('01-a-star-icon.png')!)).toBe(0);
        expect(Buffer.compare(images.get(1)!, generated.get('02-a-heart-icon.png')!)).toBe(0);

        // The installed CLI is a client too: it finds the daemon through daemon.json.
        expect(await stylesetJson('status')).toMatchObject({ url: listening.url, daemonVersion: pkg.version });

        // The daemon and its engine process map their native code (ONNX Runtime) from the prefix, and nothing of the clone.
        if (process.platform === 'linux') {
          const engines = childrenOf(serve.pid!);
          expect(engines).toHaveLength(1);
          for (const pid of [serve.pid!, engines[0]]) {
            const mapped = mappedFiles(pid);
            expect(mapped.filter((f) => f.startsWith(root))).toEqual([]);
            const native = mapped.filter((f) => f.endsWith('.node') || /libonnxruntime/.test(f));
            expect(native.length).toBeGreaterThan(0);
            expect(native.filter((f) => !f.startsWith(installed))).toEqual([]);
          }
        }
      } finally {
        await wire.close();
      }
      const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
      serve.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (serve.exitCode === null) serve.kill('SIGKILL');
    }
  });

  it('styleset doctor and service install --dry-run name the installed files', async () => {
    const doctor = await run(styleset, ['doctor', '--json'], { cwd, env: userEnv() }).catch((error: { stdout: string }) => error);
    const d = JSON.parse(doctor.stdout) as { install: { cli: string }; onnxruntime: { packageDir: string }; models: { id: string; dir: string; bytes: number }[]; versions: { styleset: string } };
    expect(d.versions.styleset).toBe(pkg.version);
    expect(d.install.cli).toBe(join(installed, 'bin', 'styleset.js'));
    expect(d.onnxruntime.packageDir).toBe(join(installed, 'node_modules', 'onnxruntime-node'));
    const modelDir = join(installed, 'models', 'default');
    const modelBytes = (readdirSync(modelDir, { recursive: true }) as string[]).map((f) => statSync(join(modelDir, f))).filter((s) => s.isFile()).reduce((sum, s) => sum + s.size, 0);
    expect(d.models[0]).toMatchObject({ id: 'default', dir: modelDir, bytes: modelBytes });

    const plan = await stylesetJson('service', 'install', '--dry-run');
    const [file] = plan.files as { path: string; content: string }[];
    if (process.platform === 'linux') {
      expect(file.path).toBe(join(home, '.config', 'systemd', 'user', 'styleset.service'));
      expect(file.content).toContain(`ExecStart="${process.execPath}" "${join(installed, 'bin', 'styleset.js')}" "serve"\n`);
      expect(file.content).toContain(`Environment="STYLESET_DATA_DIR=${join(home, '.local', 'share', 'styleset')}"\n`);
    }
  });

  it('styleset eval scores against the installed held-out glyphs as the checkout does', async () => {
    const args = ['eval', '--sets', '1', '--set-size', '2', '--steps', '6', '--per-name', '0', '--examples', '1', '--json', '--no-progress'];
    const { stdout } = await run(styleset, [...args, '-o', join(cwd, 'eval')], { cwd, env: userEnv() });
    const report = JSON.parse(stdout) as { calibration: Record<string, { images: number }>; files: { page: string; contactSheet: string } };
    expect(report.files).toEqual({ page: join(cwd, 'eval', 'evaluation.md'), contactSheet: join(cwd, 'eval', 'images', 'contact-sheet.png') });
    expect(existsSync(report.files.contactSheet)).toBe(true);
    const checkout = await run(process.execPath, [join(root, 'packages', 'daemon', 'bin', 'styleset.js'), ...args, '-o', join(work, 'checkout-eval')], { cwd, env: userEnv() });
    const expected = (JSON.parse(checkout.stdout) as typeof report).calibration;
    expect(Object.values(expected).every((c) => c.images > 0)).toBe(true);
    expect(report.calibration).toEqual(expected);
  });

  it('holds no path of the clone it was built in', async () => {
    for (const file of ['dist/cli.js', 'dist/engine-worker.js', 'dist/vector-worker.js', 'bin/styleset.js']) {
      expect({ file, clone: (await readFile(join(installed, file), 'utf8')).includes(root) }).toEqual({ file, clone: false });
    }
  });
});
