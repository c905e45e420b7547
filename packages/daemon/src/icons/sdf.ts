/**
 * 2-D signed distance primitives (negative inside), after Inigo Quilez's formulas.
 * Coordinates are y-up. Unions via min / subtraction via max are exact outside and a bound
 * inside, which is all the coverage anti-aliasing needs near the edge.
 */
export type Sdf = (x: number, y: number) => number;

export function circle(cx: number, cy: number, r: number): Sdf {
  return (x, y) => Math.hypot(x - cx, y - cy) - r;
}

export function box(cx: number, cy: number, hw: number, hh: number): Sdf {
  return (x, y) => {
    const dx = Math.abs(x - cx) - hw;
    const dy = Math.abs(y - cy) - hh;
    return Math.hypot(Math.max(dx, 0), Math.max(dy, 0)) + Math.min(Math.max(dx, dy), 0);
  };
}

/** Exact distance to a simple polygon given as [x0, y0, x1, y1, ...]. */
export function polygon(points: readonly number[]): Sdf {
  const v = Float64Array.from(points);
  const n = v.length / 2;
  return (x, y) => {
    let d = (x - v[0]) ** 2 + (y - v[1]) ** 2;
    let s = 1;
    for (let i = 0, j = n - 1; i < n; j = i, i++) {
      const vix = v[2 * i];
      const viy = v[2 * i + 1];
      const ex = v[2 * j] - vix;
      const ey = v[2 * j + 1] - viy;
      const wx = x - vix;
      const wy = y - viy;
      const t = Math.min(Math.max((wx * ex + wy * ey) / (ex * ex + ey * ey), 0), 1);
      const bx = wx - ex * t;
      const by = wy - ey * t;
      d = Math.min(d, bx * bx + by * by);
      const c1 = y >= viy;
      const c2 = y < v[2 * j + 1];
      const c3 = ex * wy > ey * wx;
      if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
    }
    return s * Math.sqrt(d);
  };
}

/** Regular star or polygon with `points` tips, first tip straight up. */
export function starPoints(points: number, outer: number, inner: number, cy = 0): number[] {
  const out: number[] = [];
  const steps = inner > 0 ? points * 2 : points;
  for (let i = 0; i < steps; i++) {
    const r = inner > 0 && i % 2 === 1 ? inner : outer;
    const a = Math.PI / 2 + (2 * Math.PI * i) / steps;
    out.push(r * Math.cos(a), cy + r * Math.sin(a));
  }
  return out;
}

/** Heart with its tip at the origin and lobes reaching y ~ 1.1 (iq's sdHeart). */
export const heartBase: Sdf = (x, y) => {
  const px = Math.abs(x);
  if (px + y > 1) return Math.hypot(px - 0.25, y - 0.75) - Math.SQRT2 / 4;
  const m = 0.5 * Math.max(px + y, 0);
  const d = Math.min(px * px + (y - 1) ** 2, (px - m) ** 2 + (y - m) ** 2);
  return Math.sqrt(d) * Math.sign(px - y);
};

/** Teardrop: circle of radius r1 at the origin tangent-joined to radius r2 at (0, h). */
export function unevenCapsule(r1: number, r2: number, h: number): Sdf {
  const b = (r1 - r2) / h;
  const a = Math.sqrt(1 - b * b);
  return (x, y) => {
    const px = Math.abs(x);
    const k = -b * px + a * y;
    if (k < 0) return Math.hypot(px, y) - r1;
    if (k > a * h) return Math.hypot(px, y - h) - r2;
    return a * px + b * y - r1;
  };
}

export function hexagon(r: number): Sdf {
  const kx = -0.866025404;
  const ky = 0.5;
  const kz = 0.577350269;
  return (x, y) => {
    // iq's formula with the axes swapped, so a corner points up.
    let px = Math.abs(y);
    let py = Math.abs(x);
    const dk = 2 * Math.min(kx * px + ky * py, 0);
    px -= dk * kx;
    py -= dk * ky;
    px -= Math.min(Math.max(px, -kz * r), kz * r);
    py -= r;
    return Math.hypot(px, py) * Math.sign(py);
  };
}

/**
 * Shape whose radius varies with the angle. Not an exact distance: dividing by `lipschitz`
 * keeps the edge gradient near 1 so anti-aliasing stays about a pixel wide.
 */
export function polar(radius: (angle: number) => number, lipschitz: number): Sdf {
  return (x, y) => (Math.hypot(x, y) - radius(Math.atan2(y, x))) / lipschitz;
}

/**
 * `count` copies of a part around the origin, the first on the +x axis. Folding the point into
 * the first sector keeps the distance exact, unlike a radius that varies with the angle.
 */
export function radialRepeat(part: Sdf, count: number): Sdf {
  const sector = (2 * Math.PI) / count;
  return (x, y) => {
    const a = -sector * Math.round(Math.atan2(y, x) / sector);
    return part(x * Math.cos(a) - y * Math.sin(a), x * Math.sin(a) + y * Math.cos(a));
  };
}

export const union =
  (...parts: Sdf[]): Sdf =>
  (x, y) => {
    let d = Infinity;
    for (const p of parts) d = Math.min(d, p(x, y));
    return d;
  };

export const subtract =
  (base: Sdf, hole: Sdf): Sdf =>
  (x, y) =>
    Math.max(base(x, y), -hole(x, y));

export const translate =
  (sdf: Sdf, dx: number, dy: number): Sdf =>
  (x, y) =>
    sdf(x - dx, y - dy);

export const scale =
  (sdf: Sdf, k: number): Sdf =>
  (x, y) =>
    k * sdf(x / k, y / k);
