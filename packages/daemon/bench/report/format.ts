import { summarize, type Summary } from '../measure/stats';

/** Milliseconds, with precision that suits their size. */
export function ms(value: number): string {
  if (Math.abs(value) < 10) return value.toFixed(1);
  // Halves away from zero on both sides (Math.round takes -16.5 to -16).
  return `${value < 0 ? '-' : ''}${Math.round(Math.abs(value))}`;
}

/** A difference with its sign always written: "+252", "-16.5", "+8.5%" (a run can come out faster). */
export function signed(value: number, unit: (v: number) => string): string {
  return `${value < 0 ? '-' : '+'}${unit(Math.abs(value))}`;
}

export function seconds(valueMs: number): string {
  return (valueMs / 1000).toFixed(2);
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** "median [min–max]" of values, each formatted by `unit`; a single value has no spread. */
export function spread(values: readonly number[], unit: (v: number) => string = ms): string {
  const s = summarize(values);
  return s.n === 1 ? unit(s.median) : `${unit(s.median)} [${unit(s.min)}–${unit(s.max)}]`;
}

/** The interquartile range, for samples large enough to have one. */
export function iqr(s: Summary, unit: (v: number) => string = ms): string {
  return s.n >= 4 ? `${unit(s.q1)}–${unit(s.q3)}` : '–';
}

export function median(values: readonly number[]): number {
  return summarize(values).median;
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
