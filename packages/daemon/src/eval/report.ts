import type { Summary } from './aggregate';
import { CONDITIONS, CONDITION_LABELS, type ContentSummary, type EvalReport } from './evaluate';

/** The generated part of docs/evaluation.md lies between these lines; the rest is written by hand. */
export const RESULTS_START = '<!-- styleset-eval:results:start -->';
export const RESULTS_END = '<!-- styleset-eval:results:end -->';

const pm = (s: Summary, digits = 2): string => `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
const pct = (v: number): string => `${Math.round(100 * v)}%`;

const CALIBRATION_LABELS = { tabler: 'training glyphs: @tabler/icons', phosphor: 'training glyphs: @phosphor-icons/core', lucide: 'held-out glyphs' } as const;

function contentCells(s: ContentSummary): string {
  return `${pct(s.top1)} | ${pct(s.top5)} | ${s.similarity.toFixed(2)}`;
}

/** Content: how often an image's best-matching held-out glyph is its own name's, per condition. */
export function contentTable(report: EvalReport): string {
  const lines = [
    '| images | top-1 | top-5 | similarity | top-1, names outside the old 16 shapes | top-5, outside | images |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [set, s] of Object.entries(report.calibration)) {
    lines.push(`| ${CALIBRATION_LABELS[set as keyof typeof CALIBRATION_LABELS]} (ceiling) | ${contentCells(s!)} | | | ${s!.images} |`);
  }
  for (const c of CONDITIONS) {
    const { all, newNames } = report.summary[c].content;
    lines.push(`| ${CONDITION_LABELS[c]} | ${contentCells(all)} | ${pct(newNames.top1)} | ${pct(newNames.top5)} | ${all.images} |`);
  }
  return lines.join('\n');
}

/** Consistency and variety within sets, mean ± standard deviation over sets. */
export function consistencyTable(report: EvalReport): string {
  const lines = [
    '| condition | colour-histogram spread | background ΔE | same container | glyph colour ΔE | stroke agreement | shape similarity | leakage |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of CONDITIONS) {
    const s = report.summary[c].consistency;
    lines.push(
      `| ${CONDITION_LABELS[c]} | ${pm(s.spread)} | ${pm(s.backgroundDeltaE, 1)} | ${pm(s.containerAgreement)} | ${pm(s.glyphDeltaE, 1)} | ${pm(s.strokeAgreement)} | ${pm(s.shapeSimilarity)} | ${pm(report.summary[c].leakage)} |`,
    );
  }
  return lines.join('\n');
}

/** Every name: its generated images' retrieval rates next to its training glyphs', best first. */
export function perNameTable(report: EvalReport): string {
  const rows = [...report.perName].sort((a, b) => b.generated.top1 - a.generated.top1 || b.generated.top5 - a.generated.top5 || a.name.localeCompare(b.name));
  const lines = ['| name | generated top-1 | top-5 | similarity | training glyphs top-1 | top-5 |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${r.name}${r.oldShape ? ' *' : ''} | ${pct(r.generated.top1)} | ${pct(r.generated.top5)} | ${r.generated.similarity.toFixed(2)} | ${pct(r.calibration.top1)} | ${pct(r.calibration.top5)} |`);
  }
  return lines.join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export interface ResultsContext {
  /** The command line that produced the report, shown so that it can be rerun. */
  command: string;
  /** Path of the contact sheet relative to the markdown file; omitted when none was written. */
  contactSheet?: string;
  totalMs: number;
}

/** The generated section: setup, tables, paired comparison, timing, contact sheet. */
export function resultsSection(report: EvalReport, context: ResultsContext): string {
  const { options, resolved, paired, spreadRatio } = report;
  const setRun = (o: (typeof resolved)['plain']): string => `${o.scheduler}, ${o.steps} steps, guidance ${o.guidance}`;
  const recognised = report.perName.filter((r) => r.generated.top5 >= 0.5);
  const lines = [
    RESULTS_START,
    '',
    `Model \`${report.model.id}\` (${report.model.kind}, ${report.model.width}x${report.model.height}), vocabulary of ${report.vocabulary} names; ` +
      `${options.sets} sets of ${options.setSize} name-only prompts, seed ${options.seed}` +
      (options.perName > 0 ? `; ${options.perName} plain images per name.` : '.'),
    `Sets: ${setRun(resolved.styleAligned)}; reference image: ${setRun(resolved.reference)}, inversion guidance ${resolved.reference.inversionGuidance}, offset ${resolved.reference.inversionOffset}.`,
    '',
    '```sh',
    context.command,
    '```',
    '',
    '**Content** (retrieval among the vocabulary by shape against the held-out lucide glyphs):',
    '',
    contentTable(report),
    '',
    '**Consistency** within sets (mean over pairs of images; lower spread and ΔE, higher agreement = more alike):',
    '',
    consistencyTable(report),
    '',
    `Colour-histogram spread, StyleAligned / plain on the same prompts and seeds: **${spreadRatio.styleAligned.toFixed(2)}x** ` +
      `(smaller in ${paired.spread.wins}/${paired.spread.n} sets); reference image / plain: ${spreadRatio.reference.toFixed(2)}x. ` +
      `Top-1 content, StyleAligned - plain per set: ${pm(paired.top1.difference)}.`,
  ];
  if (report.perName.length > 0) {
    lines.push(
      '',
      `**Per name** (${options.perName} plain images each; \`*\` marks the old 16 shapes). ` +
        `${recognised.length} of ${report.perName.length} names reach top-5 in at least half their images.`,
      '',
      '<details><summary>Every name</summary>',
      '',
      perNameTable(report),
      '',
      '</details>',
    );
  }
  lines.push(
    '',
    `Time: ${seconds(context.totalMs)} in all; plain ${seconds(report.timings.plain)}, StyleAligned ${seconds(report.timings.styleAligned)}, ` +
      `reference image ${seconds(report.timings.reference)} (inversion included), per-name sweep ${seconds(report.timings.perName)}.`,
  );
  if (context.contactSheet) {
    lines.push(
      '',
      `![Example sets](${context.contactSheet})`,
      '',
      'Each row is one set. Left to right: plain generation, StyleAligned (its first image is the reference), ' +
        'then the reference image (a held-out lucide glyph in a random style) followed by the set generated in its style.',
    );
  }
  lines.push('', RESULTS_END);
  return lines.join('\n');
}

/**
 * The document with its results section replaced, or appended when it has none yet, so the
 * hand-written method description around it survives every rerun.
 */
export function replaceResults(document: string | undefined, section: string): string {
  if (document === undefined) return `# Evaluation\n\n${section}\n`;
  const start = document.indexOf(RESULTS_START);
  const end = document.indexOf(RESULTS_END, start);
  if (start < 0 || end < 0) return `${document.trimEnd()}\n\n${section}\n`;
  return document.slice(0, start) + section + document.slice(end + RESULTS_END.length);
}
