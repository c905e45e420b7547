import { ASSET_KEY, parseAssetRecord, type AssetRecord } from './asset-record';

export interface NodeInfo {
  id: string;
  name: string;
  /** Figma's node type, e.g. FRAME, RECTANGLE, INSTANCE. */
  type: string;
  width: number;
  height: number;
}

/** What is selected on the canvas, as the panel needs it. */
export type SelectionInfo =
  | { kind: 'none' }
  | { kind: 'many'; count: number }
  | {
      kind: 'one';
      node: NodeInfo;
      /** A frame: a set can be placed inside it. */
      container: boolean;
      /** A layer the plugin placed, which can be regenerated. */
      asset?: AssetRecord;
    };

/** The few fields of a Figma node this needs, so it runs without Figma. */
export interface SelectedNode {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly width: number;
  readonly height: number;
  getPluginData(key: string): string;
}

export function describeSelection(nodes: readonly SelectedNode[]): SelectionInfo {
  if (nodes.length === 0) return { kind: 'none' };
  if (nodes.length > 1) return { kind: 'many', count: nodes.length };
  const [node] = nodes;
  const info: SelectionInfo = {
    kind: 'one',
    node: { id: node.id, name: node.name, type: node.type, width: Math.round(node.width), height: Math.round(node.height) },
    container: node.type === 'FRAME',
  };
  const asset = parseAssetRecord(node.getPluginData(ASSET_KEY));
  return asset === undefined ? info : { ...info, asset };
}

/** "boolean operation" for BOOLEAN_OPERATION: a node type as words. */
export const typeWords = (type: string) => type.toLowerCase().replace(/_/g, ' ');
