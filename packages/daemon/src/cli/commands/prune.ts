import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_KEEP_JOBS_DAYS, loadConfig } from '../../config/config-file';
import { resolveDirs } from '../../config/paths';
import { pruneDataFolder, type PruneReport } from '../../server/retention';
import { formatBytes } from '../../storage';

interface PruneFlags {
  olderThan?: number;
  dryRun: boolean;
  json: boolean;
  dataDir?: string;
  configDir?: string;
}

export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('delete finished jobs (records and images) older than the retention, the trajectories only they used, and caches of earlier versions; safe while the daemon runs')
    .option('--older-than <days>', `finished jobs that ended more than this many days ago (default: config "keepJobsDays", else ${DEFAULT_KEEP_JOBS_DAYS})`, days)
    .option('--dry-run', 'only report what would be deleted', false)
    .option('--json', 'print the report as one JSON object on stdout', false)
    .option('--data-dir <dir>', 'the data folder (default: $STYLESET_DATA_DIR, else the platform data folder)')
    .option('--config-dir <dir>', 'where config.json lives (default: $STYLESET_CONFIG_DIR, else the platform config folder)')
    .action(async (flags: PruneFlags) => {
      const { dataDir, configDir } = resolveDirs({ dataDir: flags.dataDir, configDir: flags.configDir });
      const olderThanDays = flags.olderThan ?? (await loadConfig(configDir)).keepJobsDays ?? DEFAULT_KEEP_JOBS_DAYS;
      const report = await pruneDataFolder({ dataDir, olderThanDays, dryRun: flags.dryRun, warn: (message) => process.stderr.write(`${message}\n`) });
      if (flags.json) process.stdout.write(`${JSON.stringify({ dataDir, ...report })}\n`);
      else process.stdout.write(`${describe(dataDir, report)}\n`);
    });
}

function days(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of days above 0, got "${value}"`);
  return n;
}

function describe(dataDir: string, report: PruneReport): string {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const { jobs, trajectories, caches, unfinished } = report;
  const lines = [
    report.cutoff === undefined
      ? `${dataDir}: jobs are kept forever (config "keepJobsDays": 0); pass --older-than DAYS to prune them`
      : `${dataDir}: ${verb} ${jobs.count} finished job(s) older than ${report.olderThanDays} days (${formatBytes(jobs.bytes)})`,
  ];
  if (trajectories.count > 0) lines.push(`  ${verb} ${trajectories.count} trajectory(ies) no kept job uses (${formatBytes(trajectories.bytes)})`);
  for (const folder of caches.folders) lines.push(`  ${verb} ${folder}/, a cache of an earlier version`);
  if (caches.folders.length > 0) lines.push(`  caches: ${formatBytes(caches.bytes)} (weights hard-linked from your model folders free nothing)`);
  if (unfinished > 0) lines.push(`  left ${unfinished} queued or running job(s) alone`);
  lines.push(`${report.dryRun ? 'would free' : 'freed'} ${formatBytes(report.bytes)} in all`);
  return lines.join('\n');
}
