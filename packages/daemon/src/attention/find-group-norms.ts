/**
 * GroupNorm layers as the TorchScript exporter writes them before opset 18: Reshape to
 * [N, groups, -1], InstanceNormalization, Reshape back, then the affine Mul and Add. The
 * InstanceNormalization is where the statistics are taken, so it is what sharing replaces.
 */
import { GraphIndex, type GraphProto, type NodeProto } from '../onnx';

/** The InstanceNormalization nodes of GroupNorms (inputs: x grouped as [N, groups, L], scale, bias), in graph order. */
export function findGroupNorms(graph: GraphProto): NodeProto[] {
  const index = new GraphIndex(graph);
  return graph.node.filter((node) => {
    if (node.opType !== 'InstanceNormalization' || (node.domain ?? '') !== '') return false;
    const consumers = index.consumers(node.output[0]);
    return index.producer(node.input[0])?.opType === 'Reshape' && consumers.length === 1 && consumers[0].opType === 'Reshape';
  });
}
