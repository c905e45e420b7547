import type { SelectionInfo } from './selection';
import { typeWords } from './selection';
import type { StyleSource } from './style';

/**
 * Where a new set goes. The panel shows it and the main thread acts on it, by this one rule: a
 * selected frame (other than the style's own node) is filled; otherwise a set in a canvas style
 * goes into a new frame next to the style's node; otherwise there is nowhere to put it (a saved
 * style has no node on the canvas to put its set next to).
 */
export type Destination =
  | { kind: 'frame'; nodeId: string; name: string }
  | { kind: 'new-frame'; nextTo: { nodeId: string; name: string } }
  | { kind: 'none'; hint: string };

export function destinationFor(selection: SelectionInfo, style: StyleSource | undefined): Destination {
  const styleNode = style?.kind === 'canvas' ? style.nodeId : undefined;
  if (selection.kind === 'one' && selection.container && selection.node.id !== styleNode) {
    return { kind: 'frame', nodeId: selection.node.id, name: selection.node.name };
  }
  if (style?.kind === 'canvas') return { kind: 'new-frame', nextTo: { nodeId: style.nodeId, name: style.name } };
  if (style?.kind === 'saved') return { kind: 'none', hint: `Select a frame to fill with a set in the saved style “${style.name}”.` };
  switch (selection.kind) {
    case 'none':
      return { kind: 'none', hint: 'Select an icon, image, component or frame and click Use as style, or select a frame to fill.' };
    case 'many':
      return { kind: 'none', hint: `Select one layer, not ${selection.count}.` };
    case 'one':
      return {
        kind: 'none',
        hint: `“${selection.node.name}” is a ${typeWords(selection.node.type)}: click Use as style to make a set in its style, or select a frame to fill.`,
      };
  }
}

/** The destination as the panel words it. */
export function describeDestination(destination: Destination): string {
  switch (destination.kind) {
    case 'frame':
      return `Into “${destination.name}”`;
    case 'new-frame':
      return `Into a new frame next to “${destination.nextTo.name}”`;
    case 'none':
      return destination.hint;
  }
}
