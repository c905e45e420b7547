// The main thread's side of a run: where its images go, and putting them there, one undo step each.
import { ASSET_KEY, encodeAssetRecord } from './asset-record';
import { cellSize, gridLayout, newFrameLayout, type Box, type Grid, type Size } from './layout';
import type { PlacedAsset, RunPlan } from './messages';
import type { Placement } from './summary';

/** Between the reference's top-level layer and the new frame, in canvas pixels. */
const FRAME_OFFSET = 80;

interface Common {
  count: number;
  placed: number;
  /** The set's palette, as paint styles made for it. */
  paintStyles: number;
  /** Colours in the set's palette (more than paintStyles where it was capped). */
  paletteColors?: number;
  /** Read at the start: a deleted node's other properties throw when read. */
  targetName: string;
  /** Seen deleted: nothing more is placed, and the summary says so. */
  deleted: boolean;
}

/** What a run fills, fixed when it begins. */
export type Target = Common &
  (
    | { kind: 'frame'; frame: FrameNode; /** Laid out at the first image, whose aspect ratio the whole set shares. */ grid?: Grid }
    | { kind: 'new-frame'; reference: Size; at: { x: number; y: number }; frame?: FrameNode; boxes?: Box[] }
    | { kind: 'replace'; node: SceneNode }
  );

/** The run's target, or why there is none (its node is gone). */
export async function targetFor(plan: RunPlan): Promise<Target | { problem: string }> {
  if (plan.kind === 'regenerate') {
    const node = await liveNode(plan.nodeId);
    if (node === undefined) return { problem: 'The layer to regenerate is no longer in this file.' };
    return { kind: 'replace', node, count: 1, placed: 0, paintStyles: 0, targetName: node.name, deleted: false };
  }
  const { destination, count } = plan;
  if (destination.kind === 'frame') {
    const frame = await liveNode(destination.nodeId);
    if (frame?.type !== 'FRAME') return { problem: `The frame “${destination.name}” is no longer in this file: select a frame to fill.` };
    return { kind: 'frame', frame, count, placed: 0, paintStyles: 0, targetName: frame.name, deleted: false };
  }
  const reference = await liveNode(destination.nextTo.nodeId);
  if (reference === undefined) {
    return { problem: `The style’s layer “${destination.nextTo.name}” is no longer in this file: select a layer and click Use as style again.` };
  }
  return {
    kind: 'new-frame',
    reference: { width: reference.width, height: reference.height },
    at: besideOf(reference),
    count,
    placed: 0,
    paintStyles: 0,
    targetName: plan.setName,
    deleted: false,
  };
}

async function liveNode(id: string): Promise<SceneNode | undefined> {
  const node = await figma.getNodeByIdAsync(id);
  return node === null || node.removed || !('visible' in node) ? undefined : (node as SceneNode);
}

/** To the right of the top-level layer holding the reference, level with the reference: clear of the frame it sits in. */
function besideOf(reference: SceneNode): { x: number; y: number } {
  let top: SceneNode = reference;
  while (top.parent !== null && top.parent.type !== 'PAGE' && top.parent.type !== 'DOCUMENT') top = top.parent as SceneNode;
  const topBox = top.absoluteBoundingBox ?? { x: top.x, y: top.y, width: top.width, height: top.height };
  const referenceBox = reference.absoluteBoundingBox ?? topBox;
  return { x: Math.round(topBox.x + topBox.width + FRAME_OFFSET), y: Math.round(referenceBox.y) };
}

/**
 * Puts one image where the target takes it, as one undo step: a designer's Undo takes back the
 * last image placed, not the whole set (the first image's step also holds the frame made for it).
 * Returns false when the target was deleted, so nothing was placed.
 */
export function placeAsset(target: Target, asset: PlacedAsset, onDeleted: () => void): boolean {
  if (noticeDeleted(target, onDeleted)) return false;
  const aspect = asset.width / asset.height;
  switch (target.kind) {
    case 'frame': {
      const { frame } = target;
      target.grid ??= gridLayout(frame, target.count, aspect);
      const box = target.grid.boxes[asset.index];
      const layer = assetLayer(asset, box);
      frame.appendChild(layer);
      // An auto-layout frame places its children itself, as its designer set it up: the grid only sizes them.
      if (frame.layoutMode === 'NONE') moveTo(layer, centredIn(box, layer));
      break;
    }
    case 'new-frame': {
      if (target.frame === undefined) {
        const layout = newFrameLayout(target.count, cellSize(target.reference, aspect));
        const frame = figma.createFrame();
        frame.name = target.targetName;
        frame.resize(layout.width, layout.height);
        moveTo(frame, target.at);
        target.frame = frame;
        target.boxes = layout.boxes;
        showInViewport(frame);
      }
      const box = target.boxes![asset.index];
      const layer = assetLayer(asset, box);
      target.frame.appendChild(layer);
      moveTo(layer, centredIn(box, layer));
      break;
    }
    case 'replace': {
      const old = target.node;
      const parent = old.parent!;
      const box = { x: old.x, y: old.y, width: old.width, height: old.height };
      const layer = assetLayer(asset, box);
      // The new layer takes the old one's place among its siblings (and so in an auto-layout's flow).
      parent.insertChild(parent.children.indexOf(old), layer);
      moveTo(layer, centredIn(box, layer));
      old.remove();
      target.node = layer;
      // Still selected, the asset can be regenerated again at once.
      figma.currentPage.selection = [layer];
      break;
    }
  }
  figma.commitUndo();
  target.placed++;
  return true;
}

/**
 * The asset as a layer named after it, remembering how it was made: a PNG as a rectangle filled
 * with it, an SVG as the vector layers Figma makes of it, scaled to fit the cell.
 */
function assetLayer(asset: PlacedAsset, box: Box): RectangleNode | FrameNode {
  let layer: RectangleNode | FrameNode;
  if (asset.image.format === 'svg') {
    layer = figma.createNodeFromSvg(asset.image.svg);
    layer.rescale(Math.min(box.width / layer.width, box.height / layer.height));
  } else {
    layer = figma.createRectangle();
    layer.resize(box.width, box.height);
    layer.fills = [{ type: 'IMAGE', imageHash: figma.createImage(asset.image.png).hash, scaleMode: 'FIT' }];
  }
  layer.name = asset.record.name;
  layer.setPluginData(ASSET_KEY, encodeAssetRecord(asset.record));
  return layer;
}

/** Where a layer scaled to fit a cell sits in it: centred (an SVG of another shape leaves a margin). */
function centredIn(box: Box, layer: SceneNode): { x: number; y: number } {
  return { x: Math.round(box.x + (box.width - layer.width) / 2), y: Math.round(box.y + (box.height - layer.height) / 2) };
}

/**
 * The set's palette as local paint styles named after it ("star set/#f58220"), one undo step:
 * a style of that name already there (the same set made again) takes the colour.
 */
export async function addPaletteStyles(target: Target, colors: readonly string[], total = colors.length): Promise<void> {
  const existing = new Map((await figma.getLocalPaintStylesAsync()).map((style) => [style.name, style]));
  for (const hex of colors) {
    const name = `${target.targetName}/${hex}`;
    const style = existing.get(name) ?? figma.createPaintStyle();
    style.name = name;
    style.paints = [{ type: 'SOLID', color: rgbOf(hex) }];
  }
  figma.commitUndo();
  target.paintStyles = colors.length;
  target.paletteColors = total;
}

/** `#rrggbb` as Figma's colour, channels from 0 to 1. */
export function rgbOf(hex: string): RGB {
  const channel = (i: number) => Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
  return { r: channel(0), g: channel(1), b: channel(2) };
}

function moveTo(node: SceneNode, { x, y }: { x: number; y: number }): void {
  node.x = x;
  node.y = y;
}

/** A new frame off screen is brought into view; one the designer can see stays where it is. */
function showInViewport(frame: FrameNode): void {
  const view = figma.viewport.bounds;
  const inside = frame.x >= view.x && frame.y >= view.y && frame.x + frame.width <= view.x + view.width && frame.y + frame.height <= view.y + view.height;
  if (!inside) figma.viewport.scrollAndZoomIntoView([frame]);
}

/** Whether the target is gone; the first time, `onDeleted` tells the UI to stop the job. */
export function noticeDeleted(target: Target, onDeleted: () => void): boolean {
  if (target.deleted) return true;
  const node = target.kind === 'replace' ? target.node : target.frame;
  if (node?.removed === true) {
    target.deleted = true;
    onDeleted();
  }
  return target.deleted;
}

/** What the summary counts. */
export function placementOf(target: Target): Placement {
  return {
    kind: target.kind === 'replace' ? 'regenerate' : 'set',
    placed: target.placed,
    total: target.count,
    targetName: target.targetName,
    targetDeleted: target.deleted,
    paintStyles: target.paintStyles,
    paletteColors: target.paletteColors,
  };
}
