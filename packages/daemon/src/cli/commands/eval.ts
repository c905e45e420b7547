import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { LIMITS } from '@styleset/protocol';
import { contactSheet } from '../../eval/contact-sheet';
import { evaluate, type EvalOptions, type EvalReport } from '../../eval/evaluate';
import { firstNames, loadGlyphLibrary } from '../../eval/glyph-library';
import { consistencyTable, contentTable, replaceResults, resultsSection } from '../../eval/report';
import { encodePng } from '../../image/png';
import { integer, parseGuidance, parseSteps } from '../arguments';
import { addLocalEngineOptions, openLocalEngine, type LocalEngineFlags } from '../local-engine';

interface EvalFlags extends LocalEngineFlags, EvalOptions {
  /** The vocabulary's first n names only. */
  names?: number;
  out: string;
  json: boolean;
  progress: boolean;
}

/** Where the results go under --out: the page, and the contact sheet it links to. */
const PAGE = 'evaluation.md';
const SHEET = 'images/contact-sheet.png';

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description('measure content (against held-out icons) and set consistency of plain generation, StyleAligned and the reference-image path on icon sets')
    .option('--sets <n>', 'number of sets', integer(1, 1000), 20)
    .option('--set-size <n>', 'images per set (distinct names)', integer(2, 15), 4)
    .option('--seed <n>', 'seed of the set plan and of the first image; the same in every condition', integer(LIMITS.seed.min, LIMITS.seed.max), 1)
    .option('--steps <n>', "denoising steps for every condition (default: the model's for sets, 50 for the reference image)", parseSteps)
    .option('--guidance <g>', "guidance for every condition (default: the model's for sets; for the reference image 10, unless the model's styleset.json recommends one)", parseGuidance)
    .option('--examples <n>', 'sets shown in the contact sheet', integer(0, 1000), 6)
    .option('--per-name <n>', 'plain images per vocabulary name for the per-name content scores (0: skip the sweep)', integer(0, 100), 3)
    .option('--names <n>', "the vocabulary's first n names only, for a model trained on those (default: every name)", integer(2, 10_000))
    .option('-o, --out <dir>', `folder that receives ${PAGE} (its results section is replaced) and ${SHEET}`, 'docs');
  addLocalEngineOptions(command);
  command
    .option('--json', 'print the full report (every set\'s scores) as JSON on stdout', false)
    .option('--no-progress', 'no progress bar')
    .action(async (flags: EvalFlags, self: Command) => {
      await runEval(flags, commandLine(self));
    });
}

/** The options given on the command line, for the page: rerunning it reproduces the table. */
function commandLine(command: Command): string {
  const quote = (a: string): string => (/^[\w./=:-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const words = ['npx', 'styleset', command.name()];
  for (const option of command.options) {
    const key = option.attributeName();
    if (command.getOptionValueSource(key) !== 'cli' || !option.long) continue;
    const value: unknown = command.getOptionValue(key);
    words.push(option.long);
    if (typeof value !== 'boolean') words.push(quote(String(value)));
  }
  return words.join(' ');
}

async function runEval(flags: EvalFlags, invocation: string): Promise<void> {
  const started = performance.now();
  const showProgress = flags.progress && process.stderr.isTTY === true;
  const bar = new SingleBar({
    stream: process.stderr,
    format: 'eval       [{bar}] {value}/{total} jobs | {what} | {eta_formatted} left',
    hideCursor: true,
  });
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  const everyName = await loadGlyphLibrary();
  const library = flags.names === undefined ? everyName : firstNames(everyName, flags.names);
  const { engine, model } = await openLocalEngine(flags);
  let report: EvalReport;
  let barStarted = false;
  try {
    report = await evaluate(
      engine,
      model,
      library,
      { sets: flags.sets, setSize: flags.setSize, seed: flags.seed, steps: flags.steps, guidance: flags.guidance, examples: flags.examples, perName: flags.perName },
      {
        signal: controller.signal,
        onJobDone: (done, total, what) => {
          if (!showProgress) return;
          if (!barStarted) bar.start(total, 0, { what });
          barStarted = true;
          bar.update(done, { what });
        },
      },
    );
  } finally {
    if (barStarted) bar.stop();
    process.removeListener('SIGINT', abort);
    await engine.close();
  }
  const totalMs = performance.now() - started;

  const outDir = resolve(flags.out);
  const pagePath = join(outDir, PAGE);
  const sheetPath = join(outDir, SHEET);
  const withSheet = report.examples.length > 0;
  if (withSheet) {
    const rows = report.examples.map((e) => [e.images.plain, e.images.styleAligned, [e.reference], e.images.reference]);
    await mkdir(join(outDir, 'images'), { recursive: true });
    await writeFile(sheetPath, encodePng(contactSheet(rows)));
  }
  const section = resultsSection(report, { command: invocation, contactSheet: withSheet ? SHEET : undefined, totalMs });
  await mkdir(outDir, { recursive: true });
  await writeFile(pagePath, replaceResults(await readExisting(pagePath), section));

  if (flags.json) {
    const { examples: _examples, ...rest } = report;
    process.stdout.write(JSON.stringify({ ...rest, totalMs: Math.round(totalMs), files: { page: pagePath, contactSheet: withSheet ? sheetPath : undefined } }) + '\n');
  } else {
    const s = report.paired.spread;
    process.stdout.write(`${contentTable(report)}\n\n${consistencyTable(report)}\n\n`);
    process.stdout.write(
      `Colour spread StyleAligned / plain: ${report.spreadRatio.styleAligned.toFixed(2)}x (smaller in ${s.wins}/${s.n} sets). ${(totalMs / 1000).toFixed(1)} s.\n`,
    );
    process.stdout.write(`Results section: ${pagePath}${withSheet ? `; contact sheet: ${sheetPath}` : ''}\n`);
  }
}

async function readExisting(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    // Only a missing page is created afresh; anything else must not be overwritten blindly.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
