import type { Command } from 'commander';
import { resolveDirs } from '../../config/paths';
import { InputError } from '../../errors';
import { installedModelsDir, listPartialDownloads, removeInstalledModel, removePartialDownloads, scanInstalledModels } from '../../model-store';
import { formatBytes } from '../../storage';

interface ModelsFlags {
  json: boolean;
  dataDir?: string;
}

const DATA_DIR_HELP = 'the data folder whose models/ holds them (default: $STYLESET_DATA_DIR, else the platform data folder)';

export function registerModels(program: Command): void {
  const models = program
    .command('models')
    .description('list the models installed with `styleset pull` (id, family, size, source repository and commit); `models rm ID` removes one')
    .option('--json', 'one JSON object on stdout', false)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (flags: ModelsFlags) => {
      await listModels(flags);
    });
  models
    .command('rm')
    .description('remove an installed model (a running daemon stops offering it at once), or with --partial the unfinished downloads')
    .argument('[id]', 'the installed model')
    .option('--partial', 'remove unfinished downloads instead (a pull of the same repository would have resumed them)', false)
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (id: string | undefined, flags: { partial: boolean; dataDir?: string }) => {
      const { dataDir } = resolveDirs({ dataDir: flags.dataDir });
      if (flags.partial) {
        process.stdout.write(`removed the unfinished downloads in ${installedModelsDir(dataDir)}: ${formatBytes(await removePartialDownloads(dataDir))} freed\n`);
        return;
      }
      if (id === undefined) throw new InputError('which model? give its id (`styleset models` lists them), or --partial');
      const bytes = await removeInstalledModel(dataDir, id);
      process.stdout.write(`removed "${id}": ${formatBytes(bytes)} freed\n`);
    });
}

async function listModels(flags: ModelsFlags): Promise<void> {
  const { dataDir } = resolveDirs({ dataDir: flags.dataDir });
  const { models, unreadable } = await scanInstalledModels(dataDir);
  const partial = await listPartialDownloads(dataDir);
  if (flags.json) {
    const out = {
      dir: installedModelsDir(dataDir),
      models: models.map(({ id, dir, record }) => ({ id, dir, family: record.family, bytes: record.bytes, ...record.source, installedAt: record.installedAt })),
      unreadable,
      partial: partial.map((p) => ({ dir: p.dir, bytes: p.bytes, ...p.source })),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines: string[] = [];
  if (models.length === 0) lines.push(`no models installed in ${installedModelsDir(dataDir)}; \`styleset pull --list\` shows some to pull`);
  else {
    const rows = models.map(({ id, record }) => [
      id,
      record.family,
      formatBytes(record.bytes),
      `${record.source.repo}${record.source.subfolder ? `/${record.source.subfolder}` : ''}@${record.source.commit.slice(0, 12)}`,
      record.installedAt.slice(0, 10),
    ]);
    const header = ['ID', 'FAMILY', 'SIZE', 'SOURCE', 'INSTALLED'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const row of [header, ...rows]) lines.push(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
    lines.push(`in ${installedModelsDir(dataDir)}; use one with --model ID`);
  }
  for (const u of unreadable) lines.push(`not a model (left alone): ${u.dir}: ${u.reason}`);
  if (partial.length > 0) {
    const bytes = partial.reduce((sum, p) => sum + p.bytes, 0);
    const what = partial.map((p) => (p.source ? `${p.source.repo}@${p.source.commit.slice(0, 12)}` : p.dir)).join(', ');
    lines.push(`unfinished downloads: ${what} (${formatBytes(bytes)}): pulling the same again resumes them; \`styleset models rm --partial\` deletes them`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
