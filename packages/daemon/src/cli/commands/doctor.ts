import type { Command } from 'commander';
import { resolveDirs } from '../../config/paths';
import { diagnose, type Diagnosis, type DiagnoseOptions, type FolderReport } from '../../doctor';
import { nodeServiceIo, serviceBackend } from '../../service';
import { formatBytes } from '../../storage';
import { cliScript, inNpxCache } from '../cli-script';

interface DoctorFlags {
  dataDir?: string;
  configDir?: string;
  json: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('what a support request needs, on one screen: versions, ONNX Runtime providers, models and sizes, folders and their permissions, free disk, the daemon and its service; exits 1 when it finds a problem')
    .option('--data-dir <dir>', 'the data folder (default: $STYLESET_DATA_DIR, else the platform data folder)')
    .option('--config-dir <dir>', 'the config folder (default: $STYLESET_CONFIG_DIR, else the platform config folder)')
    .option('--json', 'print one JSON object on stdout', false)
    .action(async (flags: DoctorFlags) => {
      const cli = cliScript();
      let service: DiagnoseOptions['service'];
      try {
        service = { backend: serviceBackend(), io: nodeServiceIo };
      } catch (error) {
        service = { unavailable: (error as Error).message };
      }
      const diagnosis = await diagnose({ dirs: resolveDirs({ dataDir: flags.dataDir, configDir: flags.configDir }), cli, npxCache: inNpxCache(cli), service });
      process.stdout.write(flags.json ? `${JSON.stringify(diagnosis)}\n` : `${describe(diagnosis)}\n`);
      if (diagnosis.problems.length > 0) process.exitCode = 1;
    });
}

function describe(d: Diagnosis): string {
  const { versions: v } = d;
  const lines = [`Styleset ${v.styleset} (protocol ${v.protocol}), Node.js ${v.node}, ONNX Runtime ${v.onnxruntime}, ${v.os}`];
  lines.push(`  cli        ${d.install.cli}${d.install.npxCache ? " (npx's cache: `npm install -g styleset --ignore-scripts` installs it for good)" : ''}`);
  lines.push(`  node       ${d.install.node}`);
  lines.push(`providers    ${describeProviders(d)}`);
  lines.push(...table('models', d.models.map((m) => [m.id, m.source, formatBytes(m.bytes), m.family ?? '', m.dir, m.problem === undefined ? '' : `PROBLEM: ${m.problem}`])));
  for (const partial of d.partialDownloads) lines.push(`             unfinished download ${partial.dir} (${formatBytes(partial.bytes)}): \`styleset models rm --partial\` deletes it`);
  lines.push(...table('folders', [folderRow('data', d.folders.data), folderRow('config', d.folders.config)]));
  if (d.dataUsage.length > 0) lines.push(`             data holds ${d.dataUsage.map((u) => `${u.name} ${formatBytes(u.bytes)}`).join(', ')}`);
  lines.push(
    d.daemon.running
      ? `daemon       running at ${d.daemon.url}, pid ${d.daemon.pid}, since ${d.daemon.startedAt}`
      : `daemon       not running (it would listen at ${d.daemon.url}): \`styleset serve\` starts it, \`styleset service install\` at every login`,
  );
  if ('unavailable' in d.service) lines.push(`service      ${d.service.unavailable}`);
  else {
    const { state } = d.service;
    const registration = state.registered ? `${state.detail}${state.pid === undefined ? '' : `, pid ${state.pid}`}, ${state.enabled ? 'starts at login' : 'does not start at login'}` : `not registered (${state.detail})`;
    lines.push(`service      ${d.service.kind} ${d.service.definition}: ${d.service.installed ? 'installed' : 'not installed'}; ${registration}`);
  }
  lines.push(d.problems.length === 0 ? 'problems     none found' : `problems     ${d.problems.length}:`);
  for (const problem of d.problems) lines.push(`  - ${problem}`);
  return lines.join('\n');
}

function describeProviders(d: Diagnosis): string {
  return d.onnxruntime.providers
    .map(({ name, bundled, libraries }) => {
      if (bundled) return name;
      if (libraries?.present) return `${name} (libraries installed)`;
      const install = name === 'cuda' && process.platform === 'linux' && process.arch === 'x64' ? `: ONNXRUNTIME_NODE_INSTALL=cuda12 node "${d.onnxruntime.packageDir}/script/install.js" installs them` : '';
      return `${name} (libraries not installed${install})`;
    })
    .join(', ');
}

function folderRow(role: string, folder: FolderReport): string[] {
  const state = !folder.exists
    ? 'not made yet'
    : [
        folder.mode === undefined ? 'ACLs of the user profile' : `${folder.mode}${folder.ownerOnly ? ' owner only' : ' OTHERS CAN READ'}`,
        folder.ownedByMe === false ? 'OWNED BY ANOTHER USER' : '',
        folder.writable ? 'writable' : 'NOT WRITABLE',
      ]
        .filter((part) => part !== '')
        .join(', ');
  return [role, folder.path, state, `${formatBytes(folder.freeBytes)} free of ${formatBytes(folder.totalBytes)}`];
}

/** Rows with aligned columns, the heading on the first. */
function table(heading: string, rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i].length))) ?? [];
  return rows.map((row, index) => `${(index === 0 ? heading : '').padEnd(13)}${row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()}`);
}
