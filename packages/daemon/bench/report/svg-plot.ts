/**
 * A small SVG line chart writer: one panel per model side by side, each with its own y scale
 * (the models differ by orders of magnitude), x on a log2 scale of set size, one line per series
 * with min–max whiskers. Hand-written to keep the benchmark free of plotting dependencies.
 */
export interface Series {
  name: string;
  /** Stroke dash pattern, so the series stay apart without colour. */
  dash?: string;
  colour: string;
  points: Array<{ x: number; median: number; min: number; max: number }>;
}

export interface Panel {
  title: string;
  series: Series[];
}

const PANEL_W = 300;
const PANEL_H = 230;
const MARGIN = { left: 52, right: 12, top: 30, bottom: 40 };
const LEGEND_H = 28;

export function linePlot(panels: readonly Panel[], options: { title: string; xLabel: string; yLabel: string }): string {
  const width = panels.length * PANEL_W;
  const height = PANEL_H + LEGEND_H + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escape(options.title)}</text>`,
  ];
  panels.forEach((panel, i) => parts.push(panelSvg(panel, i * PANEL_W, 24, options)));
  const series = panels[0]?.series ?? [];
  series.forEach((s, i) => {
    const x = 20 + i * 180;
    const y = PANEL_H + 24 + LEGEND_H / 2;
    parts.push(
      `<line x1="${x}" y1="${y}" x2="${x + 30}" y2="${y}" stroke="${s.colour}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${x + 36}" y="${y + 4}">${escape(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function panelSvg(panel: Panel, left: number, top: number, options: { xLabel: string; yLabel: string }): string {
  const all = panel.series.flatMap((s) => s.points);
  const xs = all.map((p) => Math.log2(p.x));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const yMax = niceCeiling(Math.max(...all.map((p) => p.max)));
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const ox = left + MARGIN.left;
  const oy = top + MARGIN.top;
  const px = (x: number) => ox + (x1 === x0 ? plotW / 2 : ((Math.log2(x) - x0) / (x1 - x0)) * plotW);
  const py = (y: number) => oy + plotH - (y / yMax) * plotH;
  const out: string[] = [
    `<text x="${left + PANEL_W / 2}" y="${top + 14}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
    `<rect x="${ox}" y="${oy}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = (yMax * i) / 4;
    out.push(
      `<line x1="${ox}" y1="${py(value)}" x2="${ox + plotW}" y2="${py(value)}" stroke="#eee"/>`,
      `<text x="${ox - 4}" y="${py(value) + 4}" text-anchor="end">${formatTick(value)}</text>`,
    );
  }
  for (const x of [...new Set(all.map((p) => p.x))]) {
    out.push(`<text x="${px(x)}" y="${oy + plotH + 14}" text-anchor="middle">${x}</text>`);
  }
  out.push(
    `<text x="${ox + plotW / 2}" y="${oy + plotH + 30}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text transform="translate(${left + 12} ${oy + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`,
  );
  for (const s of panel.series) {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.median).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of s.points) {
      out.push(
        `<line x1="${px(p.x)}" y1="${py(p.min)}" x2="${px(p.x)}" y2="${py(p.max)}" stroke="${s.colour}"/>`,
        `<circle cx="${px(p.x)}" cy="${py(p.median)}" r="3" fill="${s.colour}"/>`,
      );
    }
  }
  return out.join('\n');
}

/** A round number (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6 or 8 times a power of ten) at or above `value`, so quarter ticks stay readable. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10].find((m) => m * power >= value) ?? 10) * power;
}

function formatTick(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(2)));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
