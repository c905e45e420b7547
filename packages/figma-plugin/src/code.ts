// Figma's main thread: the document side. It has no WebSocket; the UI iframe talks to the daemon.
import type { MainToUi, UiToMain } from './messages';
import { addPaletteStyles, noticeDeleted, placeAsset, placementOf, targetFor, type Target } from './placement';
import { referencePromptFromName } from './prompt-words';
import { exportSettingsFor } from './reference-export';
import { describeSelection } from './selection';
import { LEGACY_TOKEN_KEY, SETTINGS_KEY } from './settings-keys';
import { summarize } from './summary';

/** The panel's thumbnail of the style, in image pixels: 48 CSS pixels at 2x. */
const THUMBNAIL_SIZE = 96;

let target: Target | undefined;

figma.showUI(__html__, { width: 340, height: 640, title: 'Styleset', themeColors: true });

function post(message: MainToUi): void {
  figma.ui.postMessage(message);
}

const selection = () => describeSelection(figma.currentPage.selection);

figma.on('selectionchange', () => post({ type: 'selection', selection: selection() }));

// One message at a time, in order: a handler that waits on the document (a node looked up, an
// export) finishes before the next message is handled, so an image never overtakes its `begin`.
let queue = Promise.resolve();
figma.ui.onmessage = (message: UiToMain) => {
  queue = queue.then(() => handle(message)).catch((error: unknown) => console.error('Styleset:', error));
};

async function handle(message: UiToMain): Promise<void> {
  switch (message.type) {
    case 'ready': {
      const [stored, legacyToken] = await Promise.all([figma.clientStorage.getAsync(SETTINGS_KEY), figma.clientStorage.getAsync(LEGACY_TOKEN_KEY)]);
      // The UI makes sense of what is stored: it knows the protocol's default address.
      post({ type: 'init', stored: { settings: stored, legacyToken }, selection: selection() });
      return;
    }
    case 'save-settings':
      await figma.clientStorage.setAsync(SETTINGS_KEY, message.settings);
      return;
    case 'use-as-style':
      await useSelectionAsStyle();
      return;
    case 'export-reference':
      await exportReference(message);
      return;
    case 'begin': {
      const found = await targetFor(message.plan);
      if ('problem' in found) {
        target = undefined;
        post({ type: 'no-target', message: found.problem });
      } else {
        target = found;
      }
      return;
    }
    case 'asset':
      if (target !== undefined) placeAsset(target, message.asset, () => post({ type: 'target-deleted' }));
      return;
    case 'palette':
      // A set whose frame went has no set to name styles after.
      if (target !== undefined && !target.deleted) await addPaletteStyles(target, message.colors, message.total);
      return;
    case 'end': {
      if (target === undefined) return;
      // A target deleted while no image arrived (the job failed or was cancelled meanwhile) counts too.
      noticeDeleted(target, () => post({ type: 'target-deleted' }));
      const { notice, status, error } = summarize(message.end, placementOf(target));
      figma.notify(notice, { error, timeout: error ? 10_000 : 4_000 });
      post({ type: 'summary', status, error });
      target = undefined;
      return;
    }
  }
}

async function useSelectionAsStyle(): Promise<void> {
  const nodes = figma.currentPage.selection;
  if (nodes.length !== 1) {
    post({ type: 'style-refused', message: nodes.length === 0 ? 'Select the layer to use as the style first.' : `Select one layer as the style, not ${nodes.length}.` });
    return;
  }
  const [node] = nodes;
  let thumbnail: Uint8Array;
  try {
    thumbnail = await node.exportAsync({ format: 'PNG', ...exportSettingsFor(node, THUMBNAIL_SIZE, THUMBNAIL_SIZE) });
  } catch {
    post({ type: 'style-refused', message: `Figma could not export “${node.name}” as an image: pick a layer with something visible in it.` });
    return;
  }
  post({
    type: 'style',
    style: {
      kind: 'canvas',
      nodeId: node.id,
      name: node.name,
      width: Math.round(node.width),
      height: Math.round(node.height),
      thumbnail,
      suggestedPrompt: referencePromptFromName(node.name),
    },
  });
}

async function exportReference({ requestId, nodeId, width, height }: Extract<UiToMain, { type: 'export-reference' }>): Promise<void> {
  const node = await figma.getNodeByIdAsync(nodeId);
  if (node === null || node.removed || node.type === 'PAGE' || node.type === 'DOCUMENT') {
    post({ type: 'reference-failed', requestId, message: 'The style’s layer is no longer in this file: select a layer and click Use as style again.' });
    return;
  }
  const scene = node as SceneNode;
  try {
    const png = await scene.exportAsync({ format: 'PNG', ...exportSettingsFor(scene, width, height) });
    post({ type: 'reference', requestId, png });
  } catch {
    post({ type: 'reference-failed', requestId, message: `Figma could not export “${scene.name}” as an image: pick a layer with something visible in it.` });
  }
}
