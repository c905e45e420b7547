export interface Size {
  width: number;
  height: number;
}

/** A cell, in the frame's own coordinates. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Grid {
  columns: number;
  rows: number;
  /** One per image, row by row. */
  boxes: Box[];
}

/** Of the frame's shorter side: enough air between images without a small frame being all gap. */
const GAP_RATIO = 0.04;

/**
 * The grid that fits `count` images of the given aspect ratio (width / height) in the frame at the
 * largest size, with an equal gap between cells and around them, centred. Sizes are whole pixels.
 */
export function gridLayout(frame: Size, count: number, aspect = 1): Grid {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a grid needs at least one cell, not ${count}`);
  const gap = Math.round(Math.min(frame.width, frame.height) * GAP_RATIO);
  let columns = 1;
  let cellWidth = -Infinity;
  for (let candidate = 1; candidate <= count; candidate++) {
    const rows = Math.ceil(count / candidate);
    const widthLimit = (frame.width - gap * (candidate + 1)) / candidate;
    const heightLimit = (frame.height - gap * (rows + 1)) / rows;
    const width = Math.min(widthLimit, heightLimit * aspect);
    // On a tie the more columns win: fewer rows read as one set, like a row of icons.
    if (width >= cellWidth) {
      columns = candidate;
      cellWidth = width;
    }
  }
  const rows = Math.ceil(count / columns);
  // A frame too small for the gaps still gets every image, at one pixel.
  const width = Math.max(1, Math.floor(cellWidth));
  const height = Math.max(1, Math.floor(width / aspect));
  const left = Math.round((frame.width - (columns * width + (columns - 1) * gap)) / 2);
  const top = Math.round((frame.height - (rows * height + (rows - 1) * gap)) / 2);
  const boxes = Array.from({ length: count }, (_, index) => ({
    x: left + (index % columns) * (width + gap),
    y: top + Math.floor(index / columns) * (height + gap),
    width,
    height,
  }));
  return { columns, rows, boxes };
}

/** A frame made for a set: its size and each image's cell in it. */
export interface FrameLayout {
  width: number;
  height: number;
  boxes: Box[];
}

/** Sets wider than this wrap to a new row. */
const MAX_COLUMNS = 8;
/** Cells are the reference's size, within these bounds: a 1000 px illustration used as a style makes no 1000 px icons. */
const CELL_MIN = 16;
const CELL_MAX = 512;

/** A cell the reference's size (its longer side, kept within bounds) at the images' aspect ratio (width / height). */
export function cellSize(reference: Size, aspect: number): Size {
  const long = Math.min(CELL_MAX, Math.max(CELL_MIN, Math.round(Math.max(reference.width, reference.height))));
  return aspect >= 1 ? { width: long, height: Math.max(1, Math.round(long / aspect)) } : { width: Math.max(1, Math.round(long * aspect)), height: long };
}

/**
 * A new frame for `count` images of the cell's size: rows of up to eight, a quarter of a cell
 * (at least 8 px) between cells and around them, like a row of icons in a design file.
 */
export function newFrameLayout(count: number, cell: Size): FrameLayout {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`a frame needs at least one cell, not ${count}`);
  const gap = Math.max(8, Math.round(Math.max(cell.width, cell.height) / 4));
  const columns = Math.min(count, MAX_COLUMNS);
  const rows = Math.ceil(count / columns);
  const boxes = Array.from({ length: count }, (_, index) => ({
    x: gap + (index % columns) * (cell.width + gap),
    y: gap + Math.floor(index / columns) * (cell.height + gap),
    width: cell.width,
    height: cell.height,
  }));
  return { width: columns * cell.width + (columns + 1) * gap, height: rows * cell.height + (rows + 1) * gap, boxes };
}
