import type { SelectionInfo } from './selection';

/**
 * What the two halves of the plugin tell each other through `postMessage`: the UI iframe holds the
 * daemon connection (the main thread has no WebSocket), the main thread holds the document.
 */

/** Main thread -> UI. */
export type MainToUi =
  | { type: 'init'; token: string; selection: SelectionInfo }
  | { type: 'selection'; selection: SelectionInfo }
  /** The frame a run fills was deleted, or none was selected when it began: the run must stop. */
  | { type: 'target-lost'; message: string };

/** How a run ended, as the main thread reports it. */
export type RunEnd = { status: 'done' } | { status: 'cancelled' } | { status: 'failed'; message: string };

/** UI -> main thread. */
export type UiToMain =
  /** Sent once the UI has loaded, so that `init` cannot arrive before anyone listens. */
  | { type: 'ready' }
  | { type: 'save-token'; token: string }
  /** Fixes the selected frame as the run's target and the grid's cell count. */
  | { type: 'begin'; count: number }
  | { type: 'image'; index: number; name: string; png: Uint8Array; width: number; height: number }
  | { type: 'end'; end: RunEnd };
