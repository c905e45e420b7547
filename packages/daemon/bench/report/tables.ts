import type { ChildReply } from '../child';
import { IDLE_SHARE, describe, type OtherWork } from '../measure/contention';
import type { JsCategory } from '../measure/js-profile';
import { quantile, summarize } from '../measure/stats';
import { OPTION_VARIANTS } from '../plan';
import type { BenchResults, ModelResults, SeparateRun } from '../results';
import type { ScalingPoint } from '../scenarios/scaling';
import type { VectorImageStats } from '../scenarios/vector';
import { MAX_BATCH_IMAGES } from '../../src/engine/batch-size';
import { planChunks } from '../../src/pipeline/generate';
import { callMedian, hasCpuTimes, memoryGrowth, plainSpeedup, chunkedPoints, defaultBatchingPoints, daemonShares, inProcessShares, inversionMedians, jsProfile, perTarget, warmSetMedian, warmSets } from './derive';
import { iqr, median, ms, percent, ratio, seconds, signed, spread, table } from './format';
import { checkTargets } from './targets';

/** The generated part of docs/benchmarks.md: every table, from one run's results. */
export function resultTables(results: BenchResults, plotFile: string): string {
  const { models } = results;
  return [
    runSection(results),
    '### Targets',
    table(['target', 'measured', 'met'], checkTargets(results).map((c) => [c.target, c.measured, c.met === undefined ? '–' : c.met ? 'yes' : '**no**'])),
    '### U-Net call',
    'One call on the batch of one sampling step of a 4-target set plus its reference: 5 images, 10 rows with classifier-free guidance. ' +
      '*export*: the U-Net as exported, no rewrite; *plain*: the rewritten U-Net with sharing off (what plain generation runs); ' +
      '*StyleAligned*: sharing on with the default options. ms; warm: median, interquartile range, min–max over n calls after the warm-up; one process per row.',
    table(
      ['model', 'U-Net', 'batch', 'load ms', 'first call ms', 'warm median ms', 'IQR', 'min–max', 'n', 'peak RSS MiB'],
      models.flatMap((m) =>
        (['export', 'plain', 'shared'] as const).map((unet) => {
          const r = m.calls[unet];
          const s = summarize(r.result.callsMs);
          return [m.model.id, unet === 'shared' ? 'StyleAligned' : unet, String(r.result.batch), ms(r.result.loadMs), ms(r.result.firstCallMs), ms(s.median), iqr(s), `${ms(s.min)}–${ms(s.max)}`, String(s.n), ms(r.peakRssMiB)];
        }),
      ),
    ),
    table(
      ['model', 'StyleAligned / plain', 'plain (rewritten) / export'],
      models.map((m) => [m.model.id, ratio(callMedian(m, 'shared') / callMedian(m, 'plain')), ratio(callMedian(m, 'plain') / callMedian(m, 'export'))]),
    ),
    ...plainVsExportSection(models),
    ...memorySection(models),
    '### Sets',
    'A 4-target set plus its reference, as a job of the engine (PNG encoding included). Each cold start is a new process: *cold* with an empty ' +
      'rewrite cache (load = read the folder, rewrite the U-Net, create the sessions), *rewrite cached* with the cache an earlier process filled. ' +
      '*first set* is the rest of the first job (its first calls also plan ONNX Runtime\'s memory); *warm* sets follow in the same processes. ' +
      'Seconds: median [min–max] over the processes (cold) or over all warm sets. Node start and module loading are not included.',
    table(
      ['model', 'steps', 'sharing', 'cold: load', 'cold: first set', 'rewrite cached: load', 'rewrite cached: first set', 'warm set', 'warm n', 'peak RSS MiB'],
      models.flatMap((m) =>
        (['plain', 'shared'] as const).map((sharing) => {
          const cold = m.sets.cold[sharing];
          const cached = m.sets.cacheWarm[sharing];
          const warm = warmSets(m, sharing).map((s) => s.wallMs);
          return [
            m.model.id,
            String(cold[0].result.steps),
            sharing === 'shared' ? 'StyleAligned' : 'plain',
            spread(cold.map((r) => r.result.loadMs), seconds),
            spread(cold.map((r) => r.result.firstSetMs), seconds),
            spread(cached.map((r) => r.result.loadMs), seconds),
            spread(cached.map((r) => r.result.firstSetMs), seconds),
            spread(warm, seconds),
            String(warm.length),
            spread([...cold, ...cached].map((r) => r.peakRssMiB), ms),
          ];
        }),
      ),
    ),
    table(
      ['model', 'warm set: StyleAligned / plain', 'rewrite (cold load − cached load), s'],
      models.map((m) => [
        m.model.id,
        ratio(warmSetMedian(m, 'shared') / warmSetMedian(m, 'plain')),
        seconds(median(m.sets.cold.shared.map((r) => r.result.loadMs)) - median(m.sets.cacheWarm.shared.map((r) => r.result.loadMs))),
      ]),
    ),
    '### Set size',
    `StyleAligned sets of 1 to 32 targets plus the reference, warm. *one batch*: every image in one U-Net batch (forced with \`--batch-size\`); ` +
      `*default*: the engine's own batching (\`defaultBatchSize\`: one batch up to ${MAX_BATCH_IMAGES} images, or fewer where the memory estimate says so, then the fewest even batches), ` +
      `measured where it differs from one batch; *chunked*: chunks of 5 images (the reference and 4 targets; \`--batch-size 5\`). ` +
      `Runs before 2026-12-05 (this page's, so far) recomputed the reference in every batch; since then a shared set's batches run in lockstep, the reference's once per step (see "Reference once per step" below the results). ms per target image: median [min–max]; peak RSS of the process after that size (sizes run in ascending order).`,
    `![Time per target image against set size: one batch, default batching and chunks, per model](${plotFile})`,
    table(
      [
        'model', 'steps', 'targets',
        'one batch: ms / image', 'one batch: peak RSS MiB',
        'default: ms / image', 'default: batches', 'default: peak RSS MiB',
        'chunked: ms / image', 'chunked: batches', 'chunked: peak RSS MiB',
      ],
      models.flatMap((m) => {
        const chunked = chunkedPoints(m);
        const byDefault = defaultBatchingPoints(m);
        const batches = (p: ScalingPoint) => String(planChunks(p.targets + 1, p.batchSize, true).length);
        return m.scaling['one-batch'].result.map((p, i) => [
          m.model.id,
          String(m.plan.scaling.steps ?? m.sets.cold.shared[0].result.steps),
          String(p.targets),
          spread(perTarget(p)),
          ms(p.peakRssMiB),
          spread(perTarget(byDefault[i])),
          batches(byDefault[i]),
          ms(byDefault[i].peakRssMiB),
          spread(perTarget(chunked[i])),
          batches(chunked[i]),
          ms(chunked[i].peakRssMiB),
        ]);
      }),
    ),
    '### Inversion once, reuse',
    'Two reference-image sets (4 targets) with the same image and prompt, one after the other in one process with the model loaded: the first ' +
      'inverts the image (DDIM, then stores the trajectory in the data folder), the second must find it. Seconds, median over processes.',
    table(
      ['model', 'steps', 'first set (inverts)', 'second set', 'inversion (first − second)', 'second set inverted', 'peak RSS MiB', 'processes'],
      models.map((m) => {
        const inv = inversionMedians(m);
        return [
          m.model.id,
          String(m.inversion[0].result.steps),
          seconds(inv.firstMs),
          seconds(inv.secondMs),
          seconds(inv.inversionMs),
          inv.secondInverted ? '**yes**' : 'no',
          spread(m.inversion.map((r) => r.peakRssMiB), ms),
          String(m.inversion.length),
        ];
      }),
    ),
    '### Where the time goes',
    'Warm StyleAligned sets, their wall time in three parts. *ONNX Runtime*: inside its run calls (timed at `OnnxModel.run`); *JavaScript*: ' +
      'the event loop busy outside them (`performance.eventLoopUtilization`); *waiting*: the event loop idle, on files and, through the daemon, on ' +
      'the client. *in-process*: engine jobs, as the CLI runs them. *daemon*: the same set submitted over WebSocket by a client in another ' +
      'process, timed by the client from `submit` to `done` (queue, progress and result frames, the job store\'s fsync\'d files); the other ' +
      'parts are the daemon process\'s.',
    table(
      ['model', 'path', 'set s', 'ONNX Runtime', 'of which U-Net', 'text encoders', 'VAE decoder', 'JavaScript', 'waiting', 'peak RSS MiB'],
      models.flatMap((m) => {
        const warm = warmSets(m, 'shared');
        const share = (pick: (s: (typeof warm)[number]) => number) => percent(median(warm.map((s) => pick(s) / s.wallMs)));
        const inProcess = inProcessShares(m);
        const daemon = daemonShares(m);
        return [
          [
            m.model.id,
            'in-process',
            spread(warm.map((s) => s.wallMs), seconds),
            percent(inProcess.ort),
            share((s) => s.ortByComponent.unet ?? 0),
            share((s) => Object.entries(s.ortByComponent).filter(([k]) => k.startsWith('text_encoder')).reduce((a, [, v]) => a + v, 0)),
            share((s) => s.ortByComponent.vae_decoder ?? 0),
            percent(inProcess.js),
            percent(inProcess.waiting),
            spread(m.sets.cold.shared.map((r) => r.peakRssMiB), ms),
          ],
          [m.model.id, 'daemon', spread(m.daemon.result.wallsMs, seconds), percent(daemon.ort), '', '', '', percent(daemon.js), percent(daemon.waiting), ms(m.daemon.peakRssMiB)],
        ];
      }),
    ),
    'The main thread of one more warm in-process set, sampled by V8\'s profiler every 200 µs; each sample is charged to the first known frame ' +
      'from the leaf up (ONNX Runtime\'s native run counts for its binding). ms per set, and share of the set\'s wall time.',
    jsTable(models),
    '### Session options',
    'The StyleAligned U-Net call of the first table under other session options, each in its own process (the options also apply to the text ' +
      'encoders and the VAE, whose load time is included). ms: median [min–max] of the warm calls.',
    table(
      ['model', 'variant', 'load ms', 'first call ms', 'warm call ms', 'vs defaults', 'peak RSS MiB'],
      models.flatMap((m) => {
        const base = median(m.calls.shared.result.callsMs);
        const row = (label: string, reply: ChildReply<'calls'>) => [
          m.model.id,
          label,
          ms(reply.result.loadMs),
          ms(reply.result.firstCallMs),
          spread(reply.result.callsMs),
          ratio(median(reply.result.callsMs) / base),
          ms(reply.peakRssMiB),
        ];
        return [
          row('defaults of sessionOptions() (the StyleAligned row above)', m.calls.shared),
          ...m.options.map((o) => row(o.label, o.reply)),
        ];
      }),
    ),
    '### Vector output',
    'The default model\'s set (4 targets and the reference), on one engine in one process, as `styleset generate` runs it: the job as PNGs, then the same job ' +
      'with `--format both --background transparent` (each image separated from its background as it is decoded, then one palette, tracing on the trace lanes, ' +
      'svgo and the render-back check once the last is in), pairs timed after three untimed ones. *first vector job*: the engine\'s first, after a warm PNG job ' +
      '(the libraries and trace lanes start with it, and its code runs cold). *one process*: the README\'s command, `styleset generate` start to exit, ' +
      'the derived models cached, PNG and vector output alternating. *clean 128 px icons*: four icons of the procedural renderer the default model is trained on, ' +
      'drawn at 128 px, vectorised alone (no set), a stand-in for a model whose outputs are flat-coloured. ms: median [min–max] over the runs; per icon: ' +
      'median [min–max] over every icon of every run; errors: mean absolute error per channel of the SVG rendered back (of 255), the largest. ' +
      '(Runs before 2026-12-05 evening timed `vectoriseSet` on the finished set\'s PNGs instead, separation included, in the lanes.)',
    vectorTable(models),
    '### Operator profile',
    'ONNX Runtime\'s profiler (`enableProfiling`) on the rewritten U-Net, same batch: exclusive kernel time per operator type (an `If`\'s ' +
      'branches are charged to their own nodes), ms per call, the largest first. *rewrite\'s nodes*: those the shared-attention rewrite added ' +
      '(named `.../styleset/...`: the If wrappers, the shared branch, AdaIN, and since rewrite version 3 the plain branch\'s fused attention; ' +
      'earlier runs kept the export\'s own unfused attention nodes, under their names, in the plain branches).',
    opTable(models),
    ...serviceSection(results),
  ].join('\n\n');
}

function vectorTable(models: readonly ModelResults[]): string {
  const timeRows: string[][] = [];
  const imageRows: string[][] = [];
  for (const m of models) {
    const v = m.vector?.result;
    if (!v) continue;
    const added = (png: number, vector: number) => `${signed(vector - png, ms)} (${signed(vector / png - 1, percent)})`;
    const pngMs = median(v.model.map((r) => r.pngMs));
    const setMs = median(v.model.map((r) => r.setMs));
    const decoding = median(v.model.map((r) => r.decodingMs - r.pngDecodingMs));
    timeRows.push([`${m.model.id}: warm engine`, spread(v.model.map((r) => r.pngMs)), spread(v.model.map((r) => r.setMs)), added(pngMs, setMs), spread(v.model.map((r) => r.svgMs)), signed(decoding, ms)]);
    timeRows.push([`${m.model.id}: first vector job`, ms(v.first.pngMs), ms(v.first.setMs), added(v.first.pngMs, v.first.setMs), ms(v.first.svgMs), '–']);
    const cli = (format: 'png' | 'both') => v.cli.filter((r) => r.format === format).map((r) => r.wallMs);
    if (v.cli.length > 0) {
      const cliSvg = v.cli.filter((r) => r.format === 'both').map((r) => r.timings.vectorMs);
      timeRows.push([`${m.model.id}: one process`, spread(cli('png')), spread(cli('both')), added(median(cli('png')), median(cli('both'))), spread(cliSvg), '–']);
    }
    timeRows.push([`${m.model.id}: clean 128 px icons`, '–', '–', '–', spread(v.clean.map((r) => r.vectorMs)), '–']);
    const row = (what: string, images: VectorImageStats[]) => [
      `${m.model.id}: ${what}`,
      String(images[0]?.width ?? ''),
      spread(images.map((im) => im.paths), String),
      spread(images.map((im) => im.subpaths), String),
      spread(images.map((im) => im.bytes / 1024), (kb) => kb.toFixed(1)),
      [...new Set(images.map((im) => im.fidelity))].join(', '),
      Math.max(...images.map((im) => im.errorQuantised)).toFixed(1),
      Math.max(...images.map((im) => im.errorOriginal)).toFixed(1),
      `${images.filter((im) => im.separated).length}/${images.length}`,
    ];
    imageRows.push(row("the model's sets", v.model.flatMap((r) => r.images)), row('clean 128 px icons', v.clean.flatMap((r) => r.images)));
  }
  if (timeRows.length === 0) return 'Not measured in this run.';
  const alone = models.flatMap((m) => (m.vector?.separately ? [`${m.model.id}: ${measuredAlone(m.vector.separately)}.`] : []));
  return [
    table(['run', 'PNG ms', 'vector output ms', 'added', 'SVGs after the last image, ms', 'decoding (separation), ms'], timeRows),
    table(['images', 'px', 'paths', 'subpaths', 'KB', 'fidelity', 'max error vs quantised', 'max error vs PNG', 'separated'], imageRows),
    ...alone,
  ].join('\n\n');
}

/** The scenarios without a model; absent from runs made before they existed. */
function serviceSection({ service }: BenchResults): string[] {
  if (!service) return [];
  const load = service.load.result;
  const latency = summarize(load.latenciesMs);
  return [
    '### Service under load, test fixtures',
    `*service under load*: test/server-load.test.ts's load timed (that test checks only that nothing is lost): ${load.shape.clients} clients ` +
      `submit ${load.shape.jobsPerClient} small sets each (1–3 images, 2 steps) to a daemon on the fake engine, cancelling every ` +
      `${load.shape.cancelEvery}th, and wait for their own oldest job whenever the queue is full: the daemon's queue, job store and frames, ` +
      'with no model time. *test fixtures*: generating the tiny models test/tiny-models.test.ts checks.',
    table(
      ['scenario', 'wall s', 'work', 'per second', 'accepted → done ms: median [p95, max]', 'peak RSS MiB'],
      [
        [
          'service under load',
          seconds(load.wallMs),
          `${load.done} jobs done, ${load.cancelled} cancelled, ${load.refused} submissions refused (queue full), ${load.images} images`,
          `${((load.done + load.cancelled) / (load.wallMs / 1000)).toFixed(0)} jobs, ${(load.images / (load.wallMs / 1000)).toFixed(0)} images`,
          `${ms(latency.median)} [${ms(quantile([...load.latenciesMs].sort((a, b) => a - b), 0.95))}, ${ms(latency.max)}]`,
          ms(service.load.peakRssMiB),
        ],
        ['test fixtures', seconds(service.fixtures.result.generationMs), `${service.fixtures.result.models} tiny models`, '', '', ms(service.fixtures.peakRssMiB)],
      ],
    ),
  ];
}


/** The default batch size's memory estimate against the peaks the set-size scaling measured. */
function memorySection(models: readonly ModelResults[]): string[] {
  const rows = models.flatMap((m) => {
    const growth = memoryGrowth(m);
    return growth ? [{ m, growth }] : [];
  });
  if (rows.length === 0) return [];
  const when = rows
    .filter(({ m }) => m.memoryEstimate!.separately)
    .map(({ m }) => `${m.model.id}: estimate by \`${m.memoryEstimate!.separately!.command}\` (${m.memoryEstimate!.separately!.startedAt}) against this run's peaks`);
  return [
    '### Memory per batch row',
    'What the engine\'s default batch size assumes one U-Net row costs (`engine/batch-size.ts`: 56 float32 activations of the top level per latent position, ' +
      'plus 2 MiB), against the growth of the peak RSS measured by *Set size, one batch* (StyleAligned, guided: 2 rows per image), from its smallest set ' +
      'to its largest, and between consecutive sizes (ONNX Runtime\'s arena grows in steps, so single steps scatter). *predicted peak*: the smallest set\'s ' +
      `peak plus the estimate for the added rows, against the largest set's measured peak.${when.length > 0 ? ` ${when.join('; ')}.` : ''}`,
    table(
      ['model', 'estimate MiB per row', 'measured MiB per row, smallest to largest set', 'between consecutive sizes', 'estimate / measured', 'largest set: predicted peak MiB', 'measured peak MiB'],
      rows.map(({ m, growth }) => [
        m.model.id,
        growth.estimateMiB.toFixed(1),
        growth.overallMiB.toFixed(1),
        growth.steps.map((v) => v.toFixed(1)).join(', '),
        ratio(growth.estimateMiB / growth.overallMiB),
        ms(growth.predictedPeakMiB),
        ms(growth.measuredPeakMiB),
      ]),
    ),
  ];
}

/** Where a scenario was rerun alone, the CPU is named: the page's Machine line is the full run's. */
function measuredAlone(run: SeparateRun): string {
  return `measured alone by \`${run.command}\`, started ${run.startedAt}${run.cpu ? `, on ${run.cpu}` : ''}`;
}

/** Plain generation's fused attention against the export as it is (a section only where measured). */
function plainVsExportSection(models: readonly ModelResults[]): string[] {
  const measured = models.flatMap((m) => (m.plainVsExport ? [{ m, p: m.plainVsExport }] : []));
  if (measured.length === 0) return [];
  const when = measured
    .filter(({ p }) => p.separately)
    .map(({ m, p }) => `${m.model.id}: ${measuredAlone(p.separately!)}`);
  return [
    '### Plain generation: fused attention against the export',
    'One U-Net call on the batch of a guided set of n images (2n rows). *export*: the U-Net as exported, whose self-attention is unfused ' +
      '(MatMul, Softmax, MatMul: it writes out the rows × heads × tokens × tokens scores); *plain*: the rewritten U-Net with sharing off, ' +
      'its self-attention one fused `MultiHeadAttention` per layer (what `--no-share` runs). Each row is its own process (export and plain alternating), ' +
      'after the warm-up calls; peak RSS is that process\'s. *other work*: the share of the machine\'s CPU other processes used meanwhile ' +
      `(above ${percent(IDLE_SHARE)} the times are distorted).${when.length > 0 ? ` ${when.join('; ')}.` : ''}`,
    table(
      ['model', 'U-Net', 'batch', 'process', 'warm median ms', 'IQR', 'min–max', 'CPU ms per call', 'n', 'peak RSS MiB', 'other work'],
      measured.flatMap(({ m, p }) =>
        (['export', 'plain'] as const).flatMap((unet) =>
          p[unet].map((r, i) => {
            const s = summarize(r.result.callsMs);
            const cpu = r.result.callsCpuMs?.length ? ms(median(r.result.callsCpuMs)) : '–';
            return [m.model.id, unet, String(r.result.batch), String(i + 1), ms(s.median), iqr(s), `${ms(s.min)}–${ms(s.max)}`, cpu, String(s.n), ms(r.peakRssMiB), percent(r.otherWork.share)];
          }),
        ),
      ),
    ),
    'Export against plain: medians of all calls, and per pair of processes run one after the other. Wall time is what a user waits; ' +
      'CPU time (the process\'s, all its threads) is the work a call does, and what to read on a shared machine, where wall time mostly measures the other work.',
    table(
      ['model', 'batch', 'export / plain, wall time', 'per pair', 'export / plain, CPU time', 'per pair', 'peak RSS MiB: export, plain (median of processes)'],
      measured.map(({ m, p }) => {
        const wall = plainSpeedup(p, 'wall');
        const cpu = hasCpuTimes(p) ? plainSpeedup(p, 'cpu') : undefined;
        return [
          m.model.id,
          String(p.plain[0].result.batch),
          ratio(wall.overall),
          wall.pairs.map(ratio).join(', '),
          cpu ? ratio(cpu.overall) : '–',
          cpu ? cpu.pairs.map(ratio).join(', ') : '–',
          `${ms(median(p.export.map((r) => r.peakRssMiB)))}, ${ms(median(p.plain.map((r) => r.peakRssMiB)))}`,
        ];
      }),
    ),
  ];
}

function runSection(results: BenchResults): string {
  const { machine } = results;
  const scenarios = [
    ...results.models.flatMap((m) => measuredScenarios(m).map(([what, reply]) => ({ what: `${m.model.id}: ${what}`, reply }))),
    ...(results.service ? [{ what: 'service under load', reply: results.service.load }, { what: 'test fixtures', reply: results.service.fixtures }] : []),
  ];
  const busy = scenarios.filter((s) => s.reply.otherWork.share >= IDLE_SHARE);
  const load =
    busy.length === 0
      ? `idle: each scenario waited for the machine to be idle and was rerun if other processes used ${percent(IDLE_SHARE)} of its CPU time or more; every kept run was idle`
      : `**${busy.length} of ${scenarios.length} scenarios ran while other processes used the CPU** (their numbers are distorted): ` +
        busy.map((s) => `${s.what} (${describe(s.reply.otherWork)})`).join('; ');
  return [
    `Run \`${results.command}\`${results.quick ? ' (smoke mode: few repeats, small sizes)' : ''}, started ${results.startedAt}, took ${Math.round(results.durationS / 60)} min.`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}, CPU provider.`,
    `- Load: ${load}.`,
    ...results.skipped.map((why) => `- Skipped: ${why}.`),
    ...results.models.map((m) => `- \`${m.model.id}\`: ${m.model.label}.`),
  ].join('\n');
}

/** Every scenario process of a model, named for the report. */
function measuredScenarios(m: ModelResults): Array<[string, { otherWork: OtherWork }]> {
  return [
    ...(['export', 'plain', 'shared'] as const).map((u): [string, { otherWork: OtherWork }] => [`U-Net calls, ${u}`, m.calls[u]]),
    ...(['cold', 'cacheWarm'] as const).flatMap((start) =>
      (['plain', 'shared'] as const).flatMap((sharing) => m.sets[start][sharing].map((r, i): [string, { otherWork: OtherWork }] => [`${sharing} set, ${start} ${i + 1}`, r])),
    ),
    ...m.options.map((o): [string, { otherWork: OtherWork }] => [`session options: ${o.label}`, o.reply]),
    ['operator profile', m.opProfile],
    ['scaling, one batch', m.scaling['one-batch']],
    ...(m.scaling.default ? [['scaling, default batching', m.scaling.default] as [string, { otherWork: OtherWork }]] : []),
    ['scaling, chunked', m.scaling.chunked],
    ...m.inversion.map((r, i): [string, { otherWork: OtherWork }] => [`inversion ${i + 1}`, r]),
    ['daemon', m.daemon],
    ...(m.vector ? [['vector output', m.vector] as [string, { otherWork: OtherWork }]] : []),
    // Measured alone, its load is in its own table, not this run's.
    ...(m.plainVsExport && !m.plainVsExport.separately
      ? (['export', 'plain'] as const).flatMap((u) => m.plainVsExport![u].map((r, i): [string, { otherWork: OtherWork }] => [`plain vs export, ${u} ${i + 1}`, r]))
      : []),
  ];
}

const JS_COLUMNS: JsCategory[] = ['onnxruntime', 'scheduler', 'tokenizer', 'image codecs', 'tensor conversion', 'pipeline', 'garbage collection', 'other', 'idle'];

function jsTable(models: readonly ModelResults[]): string {
  const rows = models.flatMap((m) => {
    const profile = jsProfile(m);
    if (!profile) return [];
    const cell = (category: JsCategory) => {
      const value = profile.breakdown[category] ?? 0;
      return `${ms(value)} (${percent(value / profile.wallMs)})`;
    };
    return [[m.model.id, seconds(profile.wallMs), ...JS_COLUMNS.map(cell)]];
  });
  return table(['model', 'set s', ...JS_COLUMNS.map((c) => (c === 'onnxruntime' ? 'ONNX Runtime' : c))], rows);
}

/** Operators making up at least this share of a call are listed; the rest are summed. */
const OP_LISTED_SHARE = 0.02;

function opTable(models: readonly ModelResults[]): string {
  const rows = models.flatMap((m) => {
    const { plain, shared } = m.opProfile.result;
    const calls = m.plan.opProfileRepeats;
    const plainOf = new Map(plain.byOp.map((o) => [o.op, o.ms]));
    const listed = shared.byOp.filter((o) => o.ms >= OP_LISTED_SHARE * shared.runMs || (plainOf.get(o.op) ?? 0) >= OP_LISTED_SHARE * plain.runMs);
    const rest = (p: typeof plain) => p.byOp.filter((o) => !listed.some((l) => l.op === o.op)).reduce((a, o) => a + o.ms, 0);
    const perCall = (v: number) => ms(v / calls);
    return [
      ...listed.map((o) => [m.model.id, o.op, perCall(plainOf.get(o.op) ?? 0), perCall(o.ms)]),
      [m.model.id, 'other operators', perCall(rest(plain)), perCall(rest(shared))],
      [m.model.id, "rewrite's nodes", perCall(plain.rewriteMs), perCall(shared.rewriteMs)],
      [m.model.id, '**run (model_run)**', perCall(plain.runMs), perCall(shared.runMs)],
    ];
  });
  return table(['model', 'operator', 'plain ms', 'StyleAligned ms'], rows);
}
