/**
 * Where a set's style comes from: a node on the canvas, exported as the reference image and
 * inverted by the daemon; or a style the daemon keeps in its library, picked by name, which the
 * run submits instead (see `run.ts`).
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

/** A style the daemon keeps (`list_styles`): its reference leads every batch, on its own model and options. */
export interface SavedStyle {
  kind: 'saved';
  name: string;
  /** Describes its reference, for the panel. */
  prompt: string;
  /** The size its images come out at. */
  width: number;
  height: number;
  model: string;
}

export type StyleSource = CanvasStyle | SavedStyle;
