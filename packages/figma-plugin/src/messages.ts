import type { AssetRecord } from './asset-record';
import type { Destination } from './destination';
import type { SelectionInfo } from './selection';
import type { Settings } from './settings';
import type { CanvasStyle } from './style';

/**
 * What the two halves of the plugin tell each other through `postMessage`: the UI iframe holds the
 * daemon connection (the main thread has no WebSocket), the main thread holds the document.
 */

/** Main thread -> UI. */
export type MainToUi =
  /** What client storage holds, as stored: the UI reads it (`readSettings`). */
  | { type: 'init'; stored: { settings: unknown; legacyToken: unknown }; selection: SelectionInfo }
  | { type: 'selection'; selection: SelectionInfo }
  /** The answer to `use-as-style`: the selected node as the set's style, or why it cannot be. */
  | { type: 'style'; style: CanvasStyle }
  | { type: 'style-refused'; message: string }
  /** The answer to `export-reference`. */
  | { type: 'reference'; requestId: number; png: Uint8Array }
  | { type: 'reference-failed'; requestId: number; message: string }
  /** The run's destination cannot take images (it is gone): the run must stop, and the panel says why. */
  | { type: 'no-target'; message: string }
  /** The frame or layer the run fills was deleted: the run must stop; the `summary` at its end says so. */
  | { type: 'target-deleted' }
  /**
   * How the run ended, counting what was really placed: only the main thread knows. The panel's
   * last word on the run; `error` when it fell short.
   */
  | { type: 'summary'; status: string; error: boolean };

/** How a run ended, as the UI reports it. */
export type RunEnd = { status: 'done' } | { status: 'cancelled' } | { status: 'failed'; /** Plain text, for a toast. */ message: string };

/** What a run fills, fixed when it begins so that changing the selection mid-run is harmless. */
export type RunPlan =
  | { kind: 'set'; count: number; destination: Exclude<Destination, { kind: 'none' }>; /** Names a new frame. */ setName: string }
  /** One layer replaced in place by a new image of the same asset. */
  | { kind: 'regenerate'; nodeId: string };

/** An image as the daemon sent it: a PNG, or an SVG (which becomes vector layers). */
export type AssetImage = { format: 'png'; png: Uint8Array } | { format: 'svg'; svg: string };

/** One image for the canvas, with what the layer must remember to be regenerated. */
export interface PlacedAsset {
  /** Its place in the set: the grid cell. */
  index: number;
  record: AssetRecord;
  image: AssetImage;
  /** The image's size in pixels (an SVG's raster's): its aspect ratio shapes the cell. */
  width: number;
  height: number;
}

/** UI -> main thread. */
export type UiToMain =
  /** Sent once the UI has loaded, so that `init` cannot arrive before anyone listens. */
  | { type: 'ready' }
  | { type: 'save-settings'; settings: Settings }
  /** Take the one selected node as the set's style. */
  | { type: 'use-as-style' }
  /** Export the style's node as a PNG that fits `width` x `height` (the model's size). */
  | { type: 'export-reference'; requestId: number; nodeId: string; width: number; height: number }
  | { type: 'begin'; plan: RunPlan }
  | { type: 'asset'; asset: PlacedAsset }
  /** The commonest colours the set's SVGs fill from (`#rrggbb`), of `total`: local paint styles named after the set. */
  | { type: 'palette'; colors: string[]; total: number }
  | { type: 'end'; end: RunEnd };
