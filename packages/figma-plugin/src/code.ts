// Figma's main thread: the document side. It has no WebSocket; the UI iframe talks to the daemon.
import { gridLayout, type Grid } from './layout';
import type { MainToUi, UiToMain } from './messages';
import { describeSelection } from './selection';
import { summarize } from './summary';

const TOKEN_KEY = 'styleset.token';

/** The frame a run fills, fixed when it begins so that changing the selection mid-run is harmless. */
interface Target {
  frame: FrameNode;
  count: number;
  /** Laid out at the first image, whose aspect ratio every image of the set shares. */
  grid?: Grid;
  placed: number;
}

let target: Target | undefined;

figma.showUI(__html__, { width: 320, height: 520, title: 'Styleset', themeColors: true });

function post(message: MainToUi): void {
  figma.ui.postMessage(message);
}

function selectedFrame(): FrameNode | undefined {
  const [node, ...others] = figma.currentPage.selection;
  return node?.type === 'FRAME' && others.length === 0 ? node : undefined;
}

figma.on('selectionchange', () => post({ type: 'selection', selection: describeSelection(figma.currentPage.selection) }));

figma.ui.onmessage = (message: UiToMain) => {
  switch (message.type) {
    case 'ready':
      void figma.clientStorage.getAsync(TOKEN_KEY).then((token: unknown) =>
        post({ type: 'init', token: typeof token === 'string' ? token : '', selection: describeSelection(figma.currentPage.selection) }),
      );
      return;
    case 'save-token':
      void figma.clientStorage.setAsync(TOKEN_KEY, message.token);
      return;
    case 'begin': {
      const frame = selectedFrame();
      if (frame === undefined) {
        target = undefined;
        post({ type: 'target-lost', message: 'Select a frame first: the images go inside it.' });
      } else {
        target = { frame, count: message.count, placed: 0 };
      }
      return;
    }
    case 'image':
      place(message);
      return;
    case 'end': {
      if (target === undefined) return;
      const { message: text, error } = summarize(message.end, target.placed, target.count, target.frame.name);
      figma.notify(text, { error, timeout: error ? 10_000 : 4_000 });
      target = undefined;
      return;
    }
  }
};

function place(image: Extract<UiToMain, { type: 'image' }>): void {
  if (target === undefined) return;
  const { frame } = target;
  if (frame.removed) {
    post({ type: 'target-lost', message: `The frame “${frame.name}” was deleted while its images were made.` });
    target = undefined;
    return;
  }
  target.grid ??= gridLayout(frame, target.count, image.width / image.height);
  const box = target.grid.boxes[image.index];
  const rectangle = figma.createRectangle();
  rectangle.name = image.name;
  rectangle.resize(box.width, box.height);
  rectangle.fills = [{ type: 'IMAGE', imageHash: figma.createImage(image.png).hash, scaleMode: 'FIT' }];
  frame.appendChild(rectangle);
  // An auto-layout frame places its children itself, as its designer set it up: the grid only sizes them.
  if (frame.layoutMode === 'NONE') {
    rectangle.x = box.x;
    rectangle.y = box.y;
  }
  target.placed++;
}
