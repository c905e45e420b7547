/**
 * `npm run bench`: what StyleAligned costs on this machine, and where the time goes.
 *
 *   npm run bench                         full run (about 16 minutes on 2 cores): writes
 *                                         docs/benchmarks.md (between its markers), the plot
 *                                         docs/images/bench-time-per-image.svg and
 *                                         packages/daemon/bench/results/latest.json
 *   npm run bench -- --quick              smoke run (about 5 minutes): every scenario once on small sizes; writes to a temporary folder
 *   npm run bench -- --models sd1-large   some models only (default, sd1-large, sdxl-large)
 *   npm run bench -- --report-only       the page and plot again from results/latest.json (after editing the report code)
 *   npm run bench -- --only plain-vs-export [--models sd1-large]
 *                                         one scenario alone, into results/latest.json, then the page and plot
 *                                         from it; its table says when it ran (about 2 minutes idle)
 *   npm run bench -- --only vector        the default model's vector output alone, likewise (about 1 minute idle)
 *   npm run bench -- --only memory-estimate
 *                                         the default batch size's memory estimate of each model, held against
 *                                         the peaks of the last full run (seconds)
 *   npm run bench -- --busy               run each scenario once, at once, without waiting for the machine
 *                                         to be idle (a shared machine); the tables show the load
 *
 * Every scenario runs in a process of its own (peak memory is per process); see docs/benchmarks.md.
 */
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './measure/machine';
import { defaultModel, generateFp16Model, generateTinyModels, type BenchModel } from './models';
import { planFor } from './plan';
import { writeResultsIntoPage } from './report/docs';
import { scalingPlot } from './report/scaling-plot';
import { resultTables } from './report/tables';
import type { BenchResults, ModelResults } from './results';
import { benchModel, runWithoutWaiting } from './run-model';
import { runSeparately, SEPARATE_SCENARIOS, type SeparateScenario } from './run-separately';
import { benchService } from './run-service';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PLOT = 'images/bench-time-per-image.svg';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    models: { type: 'string' },
    'report-only': { type: 'boolean', default: false },
    only: { type: 'string' },
    busy: { type: 'boolean', default: false },
  },
});
const quick = flags.quick ?? false;
const only = flags.models?.split(',').map((id) => id.trim());
const separate = flags.only;
const busy = flags.busy ?? false;
const command = [
  'npm run bench',
  ...(quick || only || separate || busy ? ['--'] : []),
  ...(separate ? ['--only', separate] : []),
  ...(quick ? ['--quick'] : []),
  ...(only ? ['--models', only.join(',')] : []),
  ...(busy ? ['--busy'] : []),
].join(' ');
if (busy) runWithoutWaiting();

if (flags['report-only']) {
  // The page and plot again from the last full run's samples, after a change to the report code.
  const results = JSON.parse(await readFile(join(REPO, 'packages', 'daemon', 'bench', 'results', 'latest.json'), 'utf8')) as BenchResults;
  await writeFile(join(REPO, 'docs', PLOT), scalingPlot(results));
  await writeResultsIntoPage(join(REPO, 'docs', 'benchmarks.md'), resultTables(results, PLOT));
  console.log(`Rewrote docs/benchmarks.md and docs/${PLOT} from the run of ${results.startedAt}.`);
  process.exit(0);
}

if (separate !== undefined) {
  if (!(SEPARATE_SCENARIOS as readonly string[]).includes(separate)) {
    throw new Error(`--only ${separate}: not a scenario that runs alone (known: ${SEPARATE_SCENARIOS.join(', ')})`);
  }
  await runSeparately({
    scenario: separate as SeparateScenario,
    only,
    command,
    json: join(REPO, 'packages', 'daemon', 'bench', 'results', 'latest.json'),
    page: join(REPO, 'docs', 'benchmarks.md'),
    plot: join(REPO, 'docs', PLOT),
    plotRef: PLOT,
  });
  console.log(`Measured ${separate} into packages/daemon/bench/results/latest.json; rewrote docs/benchmarks.md and docs/${PLOT}.`);
  process.exit(0);
}

const startedAt = new Date();
const started = performance.now();
const machine = describeMachine();
const work = await mkdtemp(join(tmpdir(), 'styleset-bench-'));
// Interrupted runs leave no scratch behind (models, caches, profiles: a few hundred MB).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  const skipped: string[] = [];
  const candidates: BenchModel[] = [];
  const embedded = defaultModel();
  if ('missing' in embedded) {
    skipped.push(embedded.missing);
    console.warn(`Skipping the default model: ${embedded.missing}`);
  } else {
    candidates.push(embedded);
  }
  candidates.push(...(await generateTinyModels(join(work, 'models'))));
  const models = candidates.filter((m) => !only || only.includes(m.id));
  if (models.length === 0) throw new Error(`no model to benchmark: --models ${only?.join(',')} names none of ${candidates.map((m) => m.id).join(', ')}`);
  const fp16 = models.some((m) => m.id === 'sd1-large') ? await generateFp16Model(join(work, 'models')) : undefined;

  const measured: ModelResults[] = [];
  for (const model of models) {
    measured.push(await benchModel(model, planFor(model.id, quick), join(work, model.id), model.id === 'sd1-large' ? fp16 : undefined));
  }
  const service = await benchService(join(work, 'service'));
  const results: BenchResults = {
    command,
    quick,
    startedAt: startedAt.toISOString(),
    durationS: (performance.now() - started) / 1000,
    machine,
    skipped,
    models: measured,
    service,
  };

  // A smoke run must not replace the published numbers.
  const out = quick ? await mkdtemp(join(tmpdir(), 'styleset-bench-quick-')) : REPO;
  const page = quick ? join(out, 'benchmarks.md') : join(REPO, 'docs', 'benchmarks.md');
  const plot = quick ? join(out, PLOT) : join(REPO, 'docs', PLOT);
  const json = quick ? join(out, 'results.json') : join(REPO, 'packages', 'daemon', 'bench', 'results', 'latest.json');
  for (const file of [plot, json]) await mkdir(join(file, '..'), { recursive: true });
  await writeFile(plot, scalingPlot(results));
  await writeFile(json, JSON.stringify(results, null, 1) + '\n');
  const tables = resultTables(results, PLOT);
  await writeResultsIntoPage(page, tables);
  console.log(`\n${tables}\n`);
  console.log(`Wrote ${[page, plot, json].map((f) => (quick ? f : relative(REPO, f))).join(', ')} in ${Math.round(results.durationS)} s.`);
} finally {
  await rm(work, { recursive: true, force: true });
}
