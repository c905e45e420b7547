import { stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { ModelError, StylesetError } from '../errors';
import { readModelLayout, type ModelLayout } from '../model/layout';
import { externalDataRef, isExternal, readModel } from '../onnx';
import { HubError } from './hub-error';

/**
 * A graph this small keeps its weights elsewhere, or is small anyway; larger ones (a U-Net with
 * inline weights is up to 2 GB) hold them inline and are not decoded just to find no references.
 */
const GRAPH_READ_LIMIT = 256 * 1024 * 1024;

/**
 * Checks a complete download the way the daemon will load it, before it is installed: the model
 * layout reader (every file the pipeline opens, every config it reads), and each ONNX graph's
 * external weights present and long enough. A repository that fails here never becomes an
 * installed model that fails to load.
 */
export async function checkDownload(dir: string, source: string): Promise<ModelLayout> {
  let layout: ModelLayout;
  try {
    layout = await readModelLayout(dir);
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    throw new HubError('not_an_onnx_export', `${source} is not a model Styleset can load: ${error.message.replaceAll(`${dir}/`, '')}`, { cause: error });
  }
  const graphs = [layout.unet.onnx, ...layout.textEncoders.map((e) => e.onnx), layout.vaeDecoder.onnx, ...(layout.vaeEncoder ? [layout.vaeEncoder.onnx] : [])];
  for (const graph of graphs) await checkExternalData(dir, graph, source);
  return layout;
}

async function checkExternalData(root: string, graph: string, source: string): Promise<void> {
  if ((await stat(graph)).size > GRAPH_READ_LIMIT) return;
  let model;
  try {
    model = await readModel(graph);
  } catch (error) {
    if (error instanceof StylesetError) throw new HubError('not_an_onnx_export', `${source}: ${relative(root, graph)} is not a readable ONNX model: ${error.message}`, { cause: error });
    throw error;
  }
  const ends = new Map<string, number>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (!isExternal(tensor)) continue;
    const ref = externalDataRef(tensor);
    ends.set(ref.location, Math.max(ends.get(ref.location) ?? 0, ref.offset + ref.length));
  }
  for (const [location, end] of ends) {
    const file = join(dirname(graph), location);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) {
      throw new HubError('not_an_onnx_export', `${source}: ${relative(root, graph)} keeps weights in "${location}", which is not among the files downloaded next to it (model.onnx_data, model.onnx.data, weights.pb)`);
    }
    if (size < end) throw new HubError('not_an_onnx_export', `${source}: ${relative(root, file)} has ${size} bytes, ${relative(root, graph)} reads up to byte ${end}`);
  }
}
