export interface FrameInfo {
  name: string;
  width: number;
  height: number;
}

/** The frame the images go into, or what to tell the designer instead. */
export type SelectionInfo = { frame: FrameInfo; hint?: undefined } | { frame: null; hint: string };

/** The few fields of a Figma node this needs, so it runs without Figma. */
export interface SelectedNode {
  readonly type: string;
  readonly name: string;
  readonly width: number;
  readonly height: number;
}

export function describeSelection(nodes: readonly SelectedNode[]): SelectionInfo {
  if (nodes.length === 0) return { frame: null, hint: 'Select a frame: the images go inside it.' };
  if (nodes.length > 1) return { frame: null, hint: `Select one frame, not ${nodes.length} layers.` };
  const [node] = nodes;
  if (node.type !== 'FRAME') {
    const kind = node.type.toLowerCase().replace(/_/g, ' ');
    return { frame: null, hint: `“${node.name}” is a ${kind}: select a frame.` };
  }
  return { frame: { name: node.name, width: Math.round(node.width), height: Math.round(node.height) } };
}
