import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModel, generateTinyModels, type BenchModel } from './models';
import { planFor } from './plan';
import { writeResultsIntoPage } from './report/docs';
import { scalingPlot } from './report/scaling-plot';
import { resultTables } from './report/tables';
import type { BenchResults } from './results';
import { memoryEstimate } from './memory-estimate';
import { benchPlainVsExport, inChild } from './run-model';
import { prepareSharedUnet } from '../src/attention';
import { readModelLayout } from '../src/model/layout';

/** Scenarios that can run on their own, into the last full run's results. */
export const SEPARATE_SCENARIOS = ['plain-vs-export', 'memory-estimate', 'vector'] as const;
export type SeparateScenario = (typeof SEPARATE_SCENARIOS)[number];

export interface SeparateRun {
  scenario: SeparateScenario;
  /** Model ids; absent: every model whose full plan has the scenario. */
  only?: string[];
  command: string;
  /** results/latest.json, the page and its plot. */
  json: string;
  page: string;
  plot: string;
  plotRef: string;
}

/**
 * Runs one scenario alone and puts its measurements into the last full run's results, marked with
 * this run's command and start, then rewrites the page and plot from them (as `--report-only`
 * does): a new scenario gets measured without the 16 minutes of a full run, and the page says
 * when each of its numbers was taken.
 */
export async function runSeparately(run: SeparateRun): Promise<void> {
  const results = JSON.parse(await readFile(run.json, 'utf8')) as BenchResults;
  const startedAt = new Date().toISOString();
  const work = await mkdtemp(join(tmpdir(), 'styleset-bench-'));
  try {
    const embedded = defaultModel();
    const candidates: BenchModel[] = [...('missing' in embedded ? [] : [embedded]), ...(await generateTinyModels(join(work, 'models')))];
    const wanted = (m: BenchModel) =>
      run.scenario === 'memory-estimate' || (run.scenario === 'vector' ? planFor(m.id, false).vectorRepeats > 0 && m.id === 'default' : planFor(m.id, false).plainVsExport !== undefined);
    const chosen = candidates.filter((m) => (run.only ? run.only.includes(m.id) : wanted(m)));
    if (chosen.length === 0) throw new Error(`no model to run ${run.scenario} on: --models ${run.only?.join(',')} names none of ${candidates.map((m) => m.id).join(', ')}`);
    for (const model of chosen) {
      const entry = results.models.find((m) => m.model.id === model.id);
      if (!entry) throw new Error(`${run.json} has no results for ${model.id}: run the full benchmark on it first`);
      const separately = { command: run.command, startedAt, cpu: cpus()[0]?.model.trim() };
      if (run.scenario === 'memory-estimate') {
        entry.memoryEstimate = { ...(await memoryEstimate(model)), separately };
        continue;
      }
      if (run.scenario === 'vector') {
        const plan = planFor(model.id, false);
        const spec = { kind: 'vector', model, dataDir: join(work, model.id, 'data'), targets: plan.targets, steps: plan.setSteps, repeats: plan.vectorRepeats } as const;
        entry.vector = { ...(await inChild(spec, 'vector output')), separately };
        continue;
      }
      const plan = planFor(model.id, false).plainVsExport ?? { images: 4, processes: 3, warmup: 1, repeats: 7 };
      // Rewritten here, so that no measured process's peak includes rewriting.
      const cacheDir = join(work, model.id, 'model-cache');
      await prepareSharedUnet((await readModelLayout(model.dir)).unet.onnx, cacheDir);
      const measured = await benchPlainVsExport(model, plan, cacheDir);
      entry.plainVsExport = { ...measured, separately };
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await writeFile(run.json, JSON.stringify(results, null, 1) + '\n');
  await writeFile(run.plot, scalingPlot(results));
  await writeResultsIntoPage(run.page, resultTables(results, run.plotRef));
}
