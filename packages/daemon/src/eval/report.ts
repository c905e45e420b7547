import type { Summary } from './aggregate';
import { BASELINES, CONDITIONS, ROW_LABELS, type EvalReport } from './evaluate';
import { STYLE_PARTS, STYLE_WEIGHTS } from './style';

/** The generated part of docs/evaluation.md lies between these lines; the rest is written by hand. */
export const RESULTS_START = '<!-- styleset-eval:results:start -->';
export const RESULTS_END = '<!-- styleset-eval:results:end -->';

const pm = (s: Summary, digits = 2): string => `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;

/** Mean ± standard deviation over sets, one row per condition, the renderer anchors first. */
export function resultsTable(report: EvalReport): string {
  const lines = [
    '| condition | shape accuracy | shape IoU | set consistency | similarity to reference | leakage |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of [...BASELINES, ...CONDITIONS]) {
    const s = report.summary[row];
    lines.push(`| ${ROW_LABELS[row]} | ${pm(s.accuracy)} | ${pm(s.iou)} | ${pm(s.consistency)} | ${pm(s.referenceSimilarity)} | ${pm(s.leakage)} |`);
  }
  return lines.join('\n');
}

/** Set consistency split into the parts of the style similarity: what the sets share. */
export function partsTable(report: EvalReport): string {
  const lines = ['| condition | background | palette | fill | texture |', '| --- | --- | --- | --- | --- |'];
  for (const row of [...BASELINES, ...CONDITIONS]) {
    const p = report.summary[row].consistencyParts;
    lines.push(`| ${ROW_LABELS[row]} | ${pm(p.background)} | ${pm(p.palette)} | ${pm(p.fill)} | ${pm(p.texture)} |`);
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

/** The generated section: setup, table, paired comparison, timing, contact sheet. */
export function resultsSection(report: EvalReport, context: ResultsContext): string {
  const { options, resolved, paired, normalizedConsistency: norm } = report;
  const n = options.sets;
  const pct = (v: number | undefined): string => (v === undefined ? 'n/a' : `${Math.round(100 * v)}%`);
  const c = paired.consistency;
  const a = paired.accuracy;
  const setRun = (o: (typeof resolved)['plain']): string => `${o.scheduler}, ${o.steps} steps, guidance ${o.guidance}`;
  const lines = [
    RESULTS_START,
    '',
    `Model \`${report.model.id}\` (${report.model.kind}, ${report.model.width}x${report.model.height}); ${n} sets of ${options.setSize} shape-only prompts, seed ${options.seed}.`,
    `Sets: ${setRun(resolved.styleAligned)}; reference image: ${setRun(resolved.reference)}, inversion guidance ${resolved.reference.inversionGuidance}, offset ${resolved.reference.inversionOffset}.`,
    '',
    '```sh',
    context.command,
    '```',
    '',
    resultsTable(report),
    '',
    `StyleAligned vs plain on the same prompts and seeds: set consistency higher in ${c.wins}/${c.n} sets (difference ${pm(c.difference)}); ` +
      `shape accuracy difference ${pm(a.difference)}.`,
    `Set consistency on the scale renderer random styles = 0% .. renderer one style = 100%: ` +
      `plain ${pct(norm.plain)}, StyleAligned ${pct(norm.styleAligned)}, reference image ${pct(norm.reference)}.`,
    '',
    `Set consistency by part of the style similarity (weights: ${STYLE_PARTS.map((p) => `${p} ${STYLE_WEIGHTS[p]}`).join(', ')}):`,
    '',
    partsTable(report),
    '',
    `Time: ${seconds(context.totalMs)} in all; plain ${seconds(report.timings.plain)}, StyleAligned ${seconds(report.timings.styleAligned)}, ` +
      `reference image ${seconds(report.timings.reference)} (inversion included).`,
  ];
  if (context.contactSheet) {
    lines.push(
      '',
      `![Example sets](${context.contactSheet})`,
      '',
      'Each row is one set. Left to right: plain generation, StyleAligned (its first image is the reference), ' +
        'then the reference image (a renderer icon) followed by the set generated in its style.',
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
