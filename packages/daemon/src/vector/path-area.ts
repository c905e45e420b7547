/**
 * Twice the signed area a path segment adds to its closed path (Green's theorem: the integral of
 * x dy - y dx along it), so that a subpath's area is half the sum over its segments, closing line
 * included. For a line this is the shoelace term.
 */
export function lineCross(x0: number, y0: number, x1: number, y1: number): number {
  return x0 * y1 - x1 * y0;
}

// Three-point Gauss-Legendre on [0, 1]: exact for polynomials up to degree 5, and x(t) y'(t) of a
// cubic Bezier is degree 5, so the curve's term is exact, not an approximation.
const NODE = Math.sqrt(3 / 5) / 2;
const GAUSS: ReadonlyArray<readonly [number, number]> = [
  [0.5 - NODE, 5 / 18],
  [0.5, 8 / 18],
  [0.5 + NODE, 5 / 18],
];

/**
 * The same for a cubic Bezier whose four points (x, y pairs) start at `p[at]`. The control
 * polygon's shoelace terms would count the area between the curve and its control points too,
 * which on a thin rounded strip is much of it.
 */
export function cubicCross(p: ArrayLike<number>, at: number): number {
  // Read into locals, not destructured from a fresh array: this runs once per curve of every traced path.
  const x0 = p[at], y0 = p[at + 1], x1 = p[at + 2], y1 = p[at + 3], x2 = p[at + 4], y2 = p[at + 5], x3 = p[at + 6], y3 = p[at + 7];
  let sum = 0;
  for (const [t, w] of GAUSS) {
    const s = 1 - t;
    const b0 = s * s * s, b1 = 3 * s * s * t, b2 = 3 * s * t * t, b3 = t * t * t;
    const x = b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3;
    const y = b0 * y0 + b1 * y1 + b2 * y2 + b3 * y3;
    const d0 = 3 * s * s, d1 = 6 * s * t, d2 = 3 * t * t;
    const dx = d0 * (x1 - x0) + d1 * (x2 - x1) + d2 * (x3 - x2);
    const dy = d0 * (y1 - y0) + d1 * (y2 - y1) + d2 * (y3 - y2);
    sum += w * (x * dy - y * dx);
  }
  return sum;
}
