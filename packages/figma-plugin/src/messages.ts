import type { SelectionInfo } from './selection';

/**
 * What the two halves of the plugin tell each other through `postMessage`: the UI iframe holds the
 * daemon connection (the main thread has no WebSocket), the main thread holds the document.
 */

/** Main thread -> UI. */
export type MainToUi =
  | { type: 'init'; token: string; selection: SelectionInfo }
  | { type: 'selection'; selection: SelectionInfo }
  /** No frame was selected when the run began: the run must stop, and the panel says why. */
  | { type: 'no-target'; message: string }
  /** The frame the run fills was deleted: the run must stop; the `summary` at its end says so. */
  | { type: 'target-deleted' }
  /**
   * How the run ended, counting what was really placed: only the main thread knows. The panel's
   * last word on the run; `error` when it fell short.
   */
  | { type: 'summary'; status: string; error: boolean };

/** How a run ended, as the UI reports it. */
export type RunEnd = { status: 'done' } | { status: 'cancelled' } | { status: 'failed'; /** Plain text, for a toast. */ message: string };

/** UI -> main thread. */
export type UiToMain =
  /** Sent once the UI has loaded, so that `init` cannot arrive before anyone listens. */
  | { type: 'ready' }
  | { type: 'save-token'; token: string }
  /** Fixes the selected frame as the run's target and the grid's cell count. */
  | { type: 'begin'; count: number }
  | { type: 'image'; index: number; name: string; png: Uint8Array; width: number; height: number }
  | { type: 'end'; end: RunEnd };
