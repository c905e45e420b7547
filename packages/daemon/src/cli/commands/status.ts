import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PORT, PROTOCOL_VERSION, RESULT_MIME, type DaemonMessageOf } from '@styleset/protocol';
import { daemonUrl } from '../../config/daemon-file';
import { resolveDirs } from '../../config/paths';
import { readToken } from '../../config/token';
import { StylesetClient } from '../../server/client';
import { TerminalProgress } from '../progress';

interface StatusFlags {
  url?: string;
  token?: string;
  configDir?: string;
  wait: boolean;
  out?: string;
  json: boolean;
  progress: boolean;
}

type Status = DaemonMessageOf<'status'>;

const UNFINISHED = new Set(['error', 'cancelled', 'interrupted']);

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('ask the running daemon for its models and queue, or for one job (and its images)')
    .argument('[jobId]', 'a job id, as the serve log and `accepted` show it')
    .option('--url <url>', `the daemon (default: where the running daemon recorded it listens, else ws://127.0.0.1:<config "port", else ${DEFAULT_PORT}>); wss://name for one behind a TLS proxy`)
    .option('--token <token>', 'pairing token (default: $STYLESET_TOKEN, else the token file in the config folder); other users can see arguments, so prefer those')
    .option('--config-dir <dir>', 'where the token and config.json live (default: $STYLESET_CONFIG_DIR, else the platform config folder)')
    .option('--wait', 'follow the job to its end, with progress bars; exit 1 unless it ends done', false)
    .option('--out <dir>', "write the job's finished images there as <index>.png, and its SVGs as <index>.svg")
    .option('--json', 'print one JSON object on stdout instead of text', false)
    .option('--no-progress', 'no progress bars')
    .action(async (jobId: string | undefined, flags: StatusFlags) => {
      const { configDir } = resolveDirs({ configDir: flags.configDir });
      const url = flags.url ?? (await daemonUrl(configDir)).url;
      const token = flags.token ?? (process.env.STYLESET_TOKEN || (await readToken(configDir)));
      const client = await StylesetClient.connect({ url, token });
      try {
        if (jobId === undefined) await printDaemon(client, url, flags.json);
        else await printJob(client, jobId, flags);
      } finally {
        await client.close();
      }
    });
}

async function printDaemon(client: StylesetClient, url: string, json: boolean): Promise<void> {
  const { daemonVersion, defaultModel } = client.welcome;
  const models = await client.listModels();
  const { running, waiting, jobs } = await client.getQueue();
  if (json) {
    process.stdout.write(`${JSON.stringify({ url, daemonVersion, protocol: PROTOCOL_VERSION, defaultModel, models, queue: { running, waiting, jobs } })}\n`);
    return;
  }
  const rows = models.map((m) => [
    m.id === defaultModel ? `* ${m.id}` : `  ${m.id}`,
    m.kind,
    `${m.width}x${m.height}`,
    m.loaded ? 'loaded' : 'not loaded',
    m.path ?? '',
  ]);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column].length))) ?? [];
  const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  const queue = running || waiting > 0 ? `queue: ${running ? 'a job running' : 'nothing running'}, ${waiting} waiting` : 'queue: idle';
  const yours = jobs.map(({ jobId, state, position, completed, count }) =>
    `  ${jobId}  ${state}${position === undefined ? '' : ` (${position} ahead)`}, ${completed} of ${count} images`,
  );
  process.stdout.write(
    [
      `Styleset daemon ${daemonVersion} at ${url} (protocol ${PROTOCOL_VERSION})`,
      'models (* the default):',
      ...table.map((row) => `  ${row}`),
      queue,
      ...(yours.length > 0 ? ['your jobs:', ...yours] : []),
    ].join('\n') + '\n',
  );
}

async function printJob(client: StylesetClient, jobId: string, flags: StatusFlags): Promise<void> {
  const status = flags.wait ? await follow(client, jobId, flags.progress && !flags.json && process.stderr.isTTY === true) : await client.getStatus(jobId);
  const files = flags.out === undefined ? undefined : await saveResults(client, jobId, resolve(flags.out));
  if (flags.wait && UNFINISHED.has(status.state)) process.exitCode = 1;
  if (flags.json) {
    const { jobId: id, kind, state, position, completed, count, error, vector } = status;
    process.stdout.write(`${JSON.stringify({ jobId: id, kind, state, position, completed, count, error, vector, files: files?.map((f) => f.file), warnings: files?.some((f) => f.warning) ? files.filter((f) => f.warning) : undefined })}\n`);
    return;
  }
  const where = status.position === undefined ? '' : ` (${status.position} ahead of it)`;
  const lines = [`job ${jobId} (${status.kind}): ${status.state}${where}, ${status.completed}/${status.count} images`];
  if (status.error !== undefined) lines.push(`  ${status.error.code}: ${status.error.message}`);
  for (const { file, warning } of files ?? []) lines.push(warning === undefined ? `  ${file}` : `  ${file}  (${warning})`);
  for (const [k, palette] of (status.vector?.palettes ?? []).entries()) {
    const which = status.vector!.palettes.length === 1 ? 'palette' : `palette ${k + 1} (image ${palette.images.join(', ')})`;
    lines.push(`  ${which}: ${palette.colors.join(' ')}`);
  }
  for (const { index, warning } of status.vector?.failed ?? []) lines.push(`  image ${index}: ${warning}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Shows the job's progress until it ends; its final status. */
async function follow(client: StylesetClient, jobId: string, showProgress: boolean): Promise<Status> {
  const bars = new TerminalProgress(showProgress);
  try {
    for await (const { message } of client.follow(jobId)) {
      if (message.type === 'progress') bars.update(message);
    }
  } finally {
    bars.stop();
  }
  return await client.getStatus(jobId);
}

/** Every stored result, PNGs and SVGs, with the warning each came with. */
async function saveResults(client: StylesetClient, jobId: string, dir: string): Promise<Array<{ file: string; warning?: string }>> {
  const { results } = await client.getResults(jobId);
  await mkdir(dir, { recursive: true });
  const files: Array<{ file: string; warning?: string }> = [];
  for (const { message, bytes } of results) {
    const extension = message.attachment.mime === RESULT_MIME.svg ? 'svg' : 'png';
    const file = join(dir, `${String(message.index).padStart(2, '0')}.${extension}`);
    await writeFile(file, bytes!);
    files.push({ file, ...(message.warning !== undefined && { warning: message.warning }) });
  }
  return files;
}
