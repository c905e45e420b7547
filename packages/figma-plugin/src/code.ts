// Figma's main thread: the document side. It has no WebSocket; the UI iframe talks to the daemon.
import { gridLayout, type Grid } from './layout';
import type { MainToUi, UiToMain } from './messages';
import { describeSelection } from './selection';
import { summarize } from './summary';

const TOKEN_KEY = 'styleset.token';

/** The frame a run fills, fixed when it begins so that changing the selection mid-run is harmless. */
interface Target {
  frame: FrameNode;
  /** Read at the start: a deleted node's other properties throw when read. */
  frameName: string;
  count: number;
  /** Laid out at the first image, whose aspect ratio every image of the set shares. */
  grid?: Grid;
  placed: number;
  /** Seen deleted: nothing more is placed, and the summary says so. */
  deleted: boolean;
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
        post({ type: 'no-target', message: 'Select a frame first: the images go inside it.' });
      } else {
        target = { frame, frameName: frame.name, count: message.count, placed: 0, deleted: false };
      }
      return;
    }
    case 'image':
      place(message);
      return;
    case 'end': {
      if (target === undefined) return;
      // A frame deleted while no image arrived (the job failed or was cancelled meanwhile) counts too.
      noticeDeleted(target);
      const { placed, count: total, frameName, deleted: frameDeleted } = target;
      const { notice, status, error } = summarize(message.end, { placed, total, frameName, frameDeleted });
      figma.notify(notice, { error, timeout: error ? 10_000 : 4_000 });
      post({ type: 'summary', status, error });
      target = undefined;
      return;
    }
  }
};

function place(image: Extract<UiToMain, { type: 'image' }>): void {
  if (target === undefined || noticeDeleted(target)) return;
  const { frame } = target;
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

/** Whether the run's frame is gone; the first time, the UI is told to stop the job. */
function noticeDeleted(run: Target): boolean {
  if (!run.deleted && run.frame.removed) {
    run.deleted = true;
    post({ type: 'target-deleted' });
  }
  return run.deleted;
}
