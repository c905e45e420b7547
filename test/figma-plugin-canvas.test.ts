import { describe, expect, it } from 'vitest';
import { DEFAULT_DAEMON_URL } from '@styleset/protocol';
import { ASSET_KEY, PNG_OUTPUT, encodeAssetRecord, parseAssetRecord } from '../packages/figma-plugin/src/asset-record';
import { describeDestination, destinationFor } from '../packages/figma-plugin/src/destination';
import { cellSize, gridLayout, newFrameLayout } from '../packages/figma-plugin/src/layout';
import { MAX_PAINT_STYLES, paintStyleColors } from '../packages/figma-plugin/src/paint-styles';
import { progressFraction } from '../packages/figma-plugin/src/progress';
import { exportSettingsFor, pngSize } from '../packages/figma-plugin/src/reference-export';
import { describeSelection, type SelectionInfo } from '../packages/figma-plugin/src/selection';
import { checkDaemonUrl, readSettings } from '../packages/figma-plugin/src/settings';
import type { CanvasStyle } from '../packages/figma-plugin/src/style';
import { summarize } from '../packages/figma-plugin/src/summary';

describe('gridLayout', () => {
  it('puts four square images in a square frame as a centred 2x2 grid', () => {
    // gap = 4% of 400 = 16; cell = (400 - 3 * 16) / 2 = 176.
    expect(gridLayout({ width: 400, height: 400 }, 4)).toEqual({
      columns: 2,
      rows: 2,
      boxes: [
        { x: 16, y: 16, width: 176, height: 176 },
        { x: 208, y: 16, width: 176, height: 176 },
        { x: 16, y: 208, width: 176, height: 176 },
        { x: 208, y: 208, width: 176, height: 176 },
      ],
    });
  });

  it('puts them in one row in a wide frame, centred horizontally', () => {
    // gap 12; height allows 300 - 24 = 276, width allows (1200 - 60) / 4 = 285; the grid is
    // 4 * 276 + 3 * 12 = 1140 wide, so 30 from either side.
    const grid = gridLayout({ width: 1200, height: 300 }, 4);
    expect(grid).toMatchObject({ columns: 4, rows: 1 });
    expect(grid.boxes.map((b) => [b.x, b.y, b.width, b.height])).toEqual([
      [30, 12, 276, 276],
      [318, 12, 276, 276],
      [606, 12, 276, 276],
      [894, 12, 276, 276],
    ]);
  });

  it('leaves the last row short and left-aligned when the count does not fill it', () => {
    const grid = gridLayout({ width: 500, height: 500 }, 5);
    expect(grid).toMatchObject({ columns: 3, rows: 2 });
    expect(grid.boxes[3].x).toBe(grid.boxes[0].x);
    expect(grid.boxes[4].x).toBe(grid.boxes[1].x);
  });

  it('keeps every cell inside the frame, at the images’ aspect ratio', () => {
    for (const [width, height, count, aspect] of [[375, 812, 7, 1], [1440, 900, 64, 1], [200, 200, 3, 16 / 9], [1000, 100, 10, 0.5]]) {
      const grid = gridLayout({ width, height }, count, aspect);
      expect(grid.boxes).toHaveLength(count);
      for (const box of grid.boxes) {
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(width);
        expect(box.y + box.height).toBeLessThanOrEqual(height);
        expect(Math.abs(box.width / box.height - aspect)).toBeLessThan(0.05 * aspect + 1 / box.height);
      }
    }
  });

  it('still gives every image a cell in a frame too small for the gaps', () => {
    const grid = gridLayout({ width: 4, height: 4 }, 3);
    expect(grid.boxes.every((box) => box.width >= 1 && box.height >= 1)).toBe(true);
  });

  it('refuses an empty grid', () => {
    expect(() => gridLayout({ width: 100, height: 100 }, 0)).toThrow(RangeError);
  });
});

describe('newFrameLayout', () => {
  it('lays a set out in one row of cells the reference’s size, a quarter cell apart and around', () => {
    // 48 px cells, gap 12: 4 * 48 + 5 * 12 = 252 wide, 48 + 24 = 72 high.
    expect(newFrameLayout(4, { width: 48, height: 48 })).toEqual({
      width: 252,
      height: 72,
      boxes: [
        { x: 12, y: 12, width: 48, height: 48 },
        { x: 72, y: 12, width: 48, height: 48 },
        { x: 132, y: 12, width: 48, height: 48 },
        { x: 192, y: 12, width: 48, height: 48 },
      ],
    });
  });

  it('wraps after eight, leaving the last row short, and keeps at least 8 px between small cells', () => {
    const layout = newFrameLayout(10, { width: 16, height: 16 });
    expect(layout.width).toBe(8 * 16 + 9 * 8);
    expect(layout.height).toBe(2 * 16 + 3 * 8);
    expect(layout.boxes[8]).toEqual({ x: 8, y: 32, width: 16, height: 16 });
    expect(layout.boxes[9].x).toBe(layout.boxes[1].x);
    for (const box of layout.boxes) expect(box.x + box.width).toBeLessThanOrEqual(layout.width - 8);
  });

  it('refuses an empty set', () => {
    expect(() => newFrameLayout(0, { width: 10, height: 10 })).toThrow(RangeError);
  });
});

describe('cellSize', () => {
  it('takes the reference’s longer side, within 16 to 512 px, at the images’ aspect ratio', () => {
    expect(cellSize({ width: 48, height: 24 }, 1)).toEqual({ width: 48, height: 48 });
    expect(cellSize({ width: 2000, height: 900 }, 1)).toEqual({ width: 512, height: 512 });
    expect(cellSize({ width: 4, height: 4 }, 1)).toEqual({ width: 16, height: 16 });
    expect(cellSize({ width: 100, height: 100 }, 2)).toEqual({ width: 100, height: 50 });
    expect(cellSize({ width: 100, height: 100 }, 0.5)).toEqual({ width: 50, height: 100 });
  });
});

const node = (type: string, name: string, width = 10, height = 10, data: Record<string, string> = {}) => ({
  id: `1:${name.length}`,
  type,
  name,
  width,
  height,
  getPluginData: (key: string) => data[key] ?? '',
});

describe('describeSelection', () => {
  const record = { name: 'search', prompt: 'a search icon', seed: 12, output: PNG_OUTPUT, style: { referencePrompt: 'a star icon', inversionJobId: 'j1', referenceNodeId: '1:2', referenceName: 'star' } };

  it('names the one selected node, its type and rounded size, and whether a set can go in it', () => {
    expect(describeSelection([node('FRAME', 'Tab bar', 375.4, 83)])).toEqual({
      kind: 'one',
      node: { id: '1:7', name: 'Tab bar', type: 'FRAME', width: 375, height: 83 },
      container: true,
    });
    expect(describeSelection([node('INSTANCE', 'star')])).toMatchObject({ kind: 'one', container: false });
  });

  it('counts what is selected otherwise', () => {
    expect(describeSelection([])).toEqual({ kind: 'none' });
    expect(describeSelection([node('FRAME', 'a'), node('FRAME', 'b')])).toEqual({ kind: 'many', count: 2 });
  });

  it('recognises a layer the plugin placed, by what it wrote on it', () => {
    expect(describeSelection([node('RECTANGLE', 'search', 48, 48, { [ASSET_KEY]: encodeAssetRecord(record) })])).toMatchObject({ kind: 'one', asset: record });
    expect(describeSelection([node('RECTANGLE', 'search', 48, 48, { [ASSET_KEY]: '{"v":1,"name":"x"}' })])).not.toHaveProperty('asset');
  });
});

describe('the asset record', () => {
  const style = { referencePrompt: 'a star icon', inversionJobId: 'j1', referenceNodeId: '1:2', referenceName: 'star' };

  it('reads back what it wrote, with or without a style', () => {
    const svg = { format: 'svg' as const, transparent: true };
    for (const record of [{ name: 'home', prompt: 'a home icon', seed: 0, output: svg, style }, { name: 'home', prompt: 'a home icon', seed: 4294967295, output: PNG_OUTPUT, style: null }]) {
      expect(parseAssetRecord(encodeAssetRecord(record))).toEqual(record);
    }
  });

  it('reads a layer placed before SVG output as a PNG on its background', () => {
    expect(parseAssetRecord(JSON.stringify({ v: 1, name: 'home', prompt: 'p', seed: 1, style: null }))).toEqual({ name: 'home', prompt: 'p', seed: 1, output: PNG_OUTPUT, style: null });
  });

  it('reads anything else as no record: empty, not JSON, another version, a missing or mistyped field', () => {
    const valid = JSON.parse(encodeAssetRecord({ name: 'home', prompt: 'p', seed: 1, output: PNG_OUTPUT, style }));
    const broken = ['', 'not json', '[]', 'null', JSON.stringify({ ...valid, v: 2 }), JSON.stringify({ ...valid, seed: 1.5 }), JSON.stringify({ ...valid, name: 3 })];
    broken.push(JSON.stringify({ ...valid, style: { ...style, inversionJobId: undefined } }), JSON.stringify({ ...valid, style: 'star' }));
    broken.push(JSON.stringify({ ...valid, output: { format: 'gif', transparent: false } }), JSON.stringify({ ...valid, output: { format: 'svg' } }), JSON.stringify({ ...valid, output: 'svg' }));
    for (const data of broken) expect(parseAssetRecord(data), data).toBeUndefined();
  });
});

describe('destinationFor', () => {
  const star: CanvasStyle = { kind: 'canvas', nodeId: '1:2', name: 'star', width: 48, height: 48, thumbnail: new Uint8Array(), suggestedPrompt: 'a star icon' };
  const one = (type: string, id: string, name: string): SelectionInfo => ({ kind: 'one', node: { id, name, type, width: 10, height: 10 }, container: type === 'FRAME' });

  it('fills a selected frame, with or without a style', () => {
    expect(destinationFor(one('FRAME', '1:5', 'Icons'), undefined)).toEqual({ kind: 'frame', nodeId: '1:5', name: 'Icons' });
    expect(destinationFor(one('FRAME', '1:5', 'Icons'), star)).toEqual({ kind: 'frame', nodeId: '1:5', name: 'Icons' });
  });

  it('puts a set in a style into a new frame next to the style’s layer, also when that layer is the selected frame', () => {
    const next = { kind: 'new-frame', nextTo: { nodeId: '1:2', name: 'star' } };
    expect(destinationFor({ kind: 'none' }, star)).toEqual(next);
    expect(destinationFor(one('FRAME', '1:2', 'star'), star)).toEqual(next);
    expect(destinationFor(one('RECTANGLE', '1:9', 'moon'), star)).toEqual(next);
    expect(describeDestination(destinationFor({ kind: 'none' }, star))).toBe('Into a new frame next to “star”');
  });

  it('says what to select when there is nowhere to put a set', () => {
    expect(describeDestination(destinationFor({ kind: 'none' }, undefined))).toBe('Select an icon, image, component or frame and click Use as style, or select a frame to fill.');
    expect(describeDestination(destinationFor({ kind: 'many', count: 3 }, undefined))).toBe('Select one layer, not 3.');
    expect(describeDestination(destinationFor(one('BOOLEAN_OPERATION', '1:3', 'Union'), undefined))).toBe(
      '“Union” is a boolean operation: click Use as style to make a set in its style, or select a frame to fill.',
    );
  });
});

describe('exportSettingsFor', () => {
  it('constrains the side that limits the scale, so the node fits the model’s size uncropped', () => {
    expect(exportSettingsFor({ width: 24, height: 24 }, 64, 64)).toEqual({ constraint: { type: 'WIDTH', value: 64 } });
    expect(exportSettingsFor({ width: 200, height: 100 }, 64, 64)).toEqual({ constraint: { type: 'WIDTH', value: 64 } });
    expect(exportSettingsFor({ width: 100, height: 200 }, 64, 64)).toEqual({ constraint: { type: 'HEIGHT', value: 64 } });
    // A wide model: a square node is limited by the height.
    expect(exportSettingsFor({ width: 50, height: 50 }, 768, 512)).toEqual({ constraint: { type: 'HEIGHT', value: 512 } });
  });
});

describe('pngSize', () => {
  it('reads the size from the header, and nothing from bytes that are not a PNG', () => {
    const header = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0, 0, 0, 0, 64]);
    expect(pngSize(header)).toEqual({ width: 256, height: 64 });
    expect(pngSize(header.slice(0, 20))).toBeUndefined();
    expect(pngSize(Uint8Array.from(header, (byte, i) => (i === 1 ? 0 : byte)))).toBeUndefined();
  });
});

describe('settings', () => {
  it('takes ws:// on this machine and wss:// anywhere, written without a trailing slash', () => {
    expect(checkDaemonUrl(' ws://127.0.0.1:7391/ ')).toEqual({ ok: true, url: 'ws://127.0.0.1:7391' });
    expect(checkDaemonUrl('ws://localhost:9000')).toEqual({ ok: true, url: 'ws://localhost:9000' });
    expect(checkDaemonUrl('ws://[::1]:7391')).toEqual({ ok: true, url: 'ws://[::1]:7391' });
    expect(checkDaemonUrl('wss://styleset.team.example')).toEqual({ ok: true, url: 'wss://styleset.team.example' });
    expect(checkDaemonUrl('wss://team.example/styleset')).toEqual({ ok: true, url: 'wss://team.example/styleset' });
  });

  it('refuses what is not a daemon address, saying why', () => {
    expect(checkDaemonUrl('styleset')).toMatchObject({ ok: false, error: expect.stringMatching(/is not an address/) });
    expect(checkDaemonUrl('https://styleset.team.example')).toMatchObject({ ok: false, error: expect.stringMatching(/not https:\/\//) });
    expect(checkDaemonUrl('ws://styleset.team.example')).toMatchObject({ ok: false, error: expect.stringMatching(/needs wss:\/\//) });
    expect(checkDaemonUrl('wss://me:secret@team.example')).toMatchObject({ ok: false, error: expect.stringMatching(/own field/) });
  });

  it('reads stored settings defensively, and a first-version token as the local daemon’s', () => {
    expect(readSettings(undefined, undefined)).toEqual({ url: DEFAULT_DAEMON_URL, tokens: {} });
    expect(readSettings(undefined, 'old')).toEqual({ url: DEFAULT_DAEMON_URL, tokens: { [DEFAULT_DAEMON_URL]: 'old' } });
    expect(readSettings({ url: 'wss://team.example', tokens: { 'wss://team.example': 't', bad: 3 } }, 'old')).toEqual({
      url: 'wss://team.example',
      tokens: { [DEFAULT_DAEMON_URL]: 'old', 'wss://team.example': 't' },
    });
    expect(readSettings({ url: 'http://nope' }, undefined).url).toBe(DEFAULT_DAEMON_URL);
  });
});

describe('summarize', () => {
  const icons = (placed: number, total: number, targetDeleted = false) => ({ kind: 'set' as const, placed, total, targetName: 'Icons', targetDeleted });

  it('counts what was placed, and flags a shortfall or failure as an error', () => {
    expect(summarize({ status: 'done' }, icons(4, 4))).toEqual({ notice: 'Styleset placed 4 images in “Icons”.', status: 'Placed 4 images in “Icons”.', error: false });
    expect(summarize({ status: 'done' }, icons(1, 1)).notice).toBe('Styleset placed 1 image in “Icons”.');
    expect(summarize({ status: 'done' }, icons(3, 4))).toEqual({ notice: 'Styleset placed 3 of 4 images in “Icons”.', status: 'Placed 3 of 4 images in “Icons”.', error: true });
    expect(summarize({ status: 'cancelled' }, icons(2, 4))).toEqual({
      notice: 'Styleset cancelled: 2 of 4 images placed in “Icons”.',
      status: 'Cancelled: 2 of 4 images placed in “Icons”.',
      error: false,
    });
    // The panel's error line already says why a run failed; its status only counts.
    expect(summarize({ status: 'failed', message: 'boom' }, icons(0, 4))).toEqual({ notice: 'Styleset placed nothing: boom', status: '', error: true });
    expect(summarize({ status: 'failed', message: 'boom' }, icons(1, 4))).toEqual({
      notice: 'Styleset placed 1 of 4 images in “Icons”: boom',
      status: 'Placed 1 of 4 images in “Icons”.',
      error: true,
    });
  });

  it('says the frame was deleted and how many images were not placed, however the run ended', () => {
    for (const end of [{ status: 'done' }, { status: 'cancelled' }, { status: 'failed', message: 'boom' }] as const) {
      expect(summarize(end, icons(0, 4, true))).toEqual({
        notice: 'Styleset stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.',
        status: 'Stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.',
        error: true,
      });
    }
    expect(summarize({ status: 'cancelled' }, icons(3, 4, true)).notice).toBe('Styleset stopped: the frame “Icons” was deleted; 1 of 4 images was not placed.');
    // Deleted with the whole set in it, the frame went as the designer chose.
    expect(summarize({ status: 'done' }, icons(4, 4, true))).toEqual(summarize({ status: 'done' }, icons(4, 4)));
  });

  it('names the paint styles a set’s palette became', () => {
    expect(summarize({ status: 'done' }, { ...icons(4, 4), paintStyles: 6 })).toEqual({
      notice: 'Styleset placed 4 images in “Icons”; its 6 colours are paint styles “Icons/…”.',
      status: 'Placed 4 images in “Icons”; its 6 colours are paint styles “Icons/…”.',
      error: false,
    });
    expect(summarize({ status: 'done' }, { ...icons(1, 1), paintStyles: 1 }).status).toBe('Placed 1 image in “Icons”; its 1 colour is a paint style “Icons/…”.');
    expect(summarize({ status: 'done' }, { ...icons(4, 4), paintStyles: 16, paletteColors: 128 }).status).toBe(
      'Placed 4 images in “Icons”; its 16 commonest of 128 colours are paint styles “Icons/…”.',
    );
  });

  it('makes paint styles of a noisy set’s commonest colours only, in the daemon’s order, each once', () => {
    const hex = (i: number) => `#${i.toString(16).padStart(6, '0')}`;
    const noisy = Array.from({ length: 128 }, (_, i) => hex(i * 1000));
    expect(paintStyleColors({ palettes: [{ colors: noisy, images: [0, 1, 2, 3] }] })).toEqual({ colors: noisy.slice(0, MAX_PAINT_STYLES), total: 128 });
    expect(MAX_PAINT_STYLES).toBe(16);
    // Per-image palettes share colours: each is one style, first seen first.
    expect(paintStyleColors({ palettes: [{ colors: ['#111111', '#222222'], images: [0] }, { colors: ['#222222', '#333333'], images: [1] }] })).toEqual({
      colors: ['#111111', '#222222', '#333333'],
      total: 3,
    });
    expect(paintStyleColors(undefined)).toEqual({ colors: [], total: 0 });
  });

  it('words a regeneration by its one layer', () => {
    const search = (placed: number, targetDeleted = false) => ({ kind: 'regenerate' as const, placed, total: 1, targetName: 'search', targetDeleted });
    expect(summarize({ status: 'done' }, search(1))).toEqual({ notice: 'Styleset replaced “search”.', status: 'Replaced “search” with a new image.', error: false });
    expect(summarize({ status: 'cancelled' }, search(0))).toEqual({ notice: 'Styleset cancelled: “search” is as it was.', status: 'Cancelled: “search” is as it was.', error: false });
    expect(summarize({ status: 'failed', message: 'boom' }, search(0))).toEqual({ notice: 'Styleset left “search” as it was: boom', status: '', error: true });
    expect(summarize({ status: 'done' }, search(0, true))).toMatchObject({ status: 'Stopped: the layer “search” was deleted, so its new image was not placed.', error: true });
  });
});

describe('progressFraction', () => {
  it('rises through the phases in order, denoising taking most of the bar', () => {
    const points = [
      progressFraction('loading', 0, 1),
      progressFraction('loading', 1, 1),
      progressFraction('denoising', 1, 20),
      progressFraction('denoising', 20, 20),
      progressFraction('decoding', 4, 4),
    ];
    expect(points).toEqual([...points].sort((a, b) => a - b));
    expect(points[0]).toBe(0);
    expect(points.at(-1)).toBe(1);
    expect(progressFraction('denoising', 20, 20) - progressFraction('denoising', 0, 20)).toBeGreaterThan(0.5);
  });
});
