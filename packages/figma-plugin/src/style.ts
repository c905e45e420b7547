/**
 * Where a set's style comes from. Today: a node on the canvas, exported as the reference image.
 * The style library (#16) adds a second source here, `{ kind: 'saved'; ... }`: a style the daemon
 * already knows, picked by name; the run then submits it instead of exporting and inverting a node
 * (see `run.ts`, `styledSubmission`), and the panel's style section gets its picker.
 */
export interface CanvasStyle {
  kind: 'canvas';
  nodeId: string;
  name: string;
  width: number;
  height: number;
  /** A small PNG of the node for the panel. */
  thumbnail: Uint8Array;
  /** A reference prompt made from the node's name; empty when the name says nothing (e.g. "Frame 12"). */
  suggestedPrompt: string;
}

export type StyleSource = CanvasStyle;
