import { Session } from 'node:inspector/promises';

/**
 * Where the main thread's time goes while `work` runs, from V8's sampling profiler. Each sample is
 * charged to the first frame, from the leaf up, that belongs to a known part of the program, so
 * that Node's own helpers (streams, buffers) count for the code that called them, and ONNX
 * Runtime's native run (a frame without a URL) counts for its binding.
 */
export type JsCategory =
  | 'onnxruntime'
  | 'scheduler'
  | 'tokenizer'
  | 'image codecs'
  | 'messaging'
  | 'tensor conversion'
  | 'pipeline'
  | 'garbage collection'
  | 'idle'
  | 'other';

/** Milliseconds per category. */
export type JsBreakdown = Partial<Record<JsCategory, number>>;

const RULES: ReadonlyArray<[RegExp, JsCategory]> = [
  [/onnxruntime-(node|common)/, 'onnxruntime'],
  [/\/src\/scheduler\//, 'scheduler'],
  [/\/src\/tokenizer\//, 'tokenizer'],
  [/\/src\/image\/|\/pngjs\/|\/jpeg-js\//, 'image codecs'],
  [/\/src\/server\/|\/node_modules\/ws\/|\/protocol\/src\/|\/node_modules\/zod\//, 'messaging'],
  [/\/src\/model\//, 'tensor conversion'],
  [/\/src\/(pipeline|engine|attention)\//, 'pipeline'],
];

/** V8's pseudo-frames: samples outside any JavaScript. */
const PSEUDO: Record<string, JsCategory> = { '(garbage collector)': 'garbage collection', '(idle)': 'idle' };

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Samples every 200 µs: fine enough for per-step work of a few milliseconds. */
const SAMPLING_INTERVAL_US = 200;

export async function profileJs<T>(work: () => Promise<T>): Promise<{ value: T; breakdown: JsBreakdown }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await session.post('Profiler.start');
    const value = await work();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    return { value, breakdown: classify(profile) };
  } finally {
    session.disconnect();
  }
}

function classify(profile: Profile): JsBreakdown {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node);
  }
  const categoryOf = new Map<number, JsCategory>();
  const resolve = (id: number): JsCategory => {
    let category = categoryOf.get(id);
    if (category) return category;
    const node = byId.get(id)!;
    const { url, functionName } = node.callFrame;
    category = PSEUDO[functionName] ?? RULES.find(([pattern]) => pattern.test(url))?.[1];
    if (!category) {
      const up = parent.get(id);
      category = up ? resolve(up.id) : 'other';
    }
    categoryOf.set(id, category);
    return category;
  };
  const breakdown: JsBreakdown = {};
  // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const category = resolve(id);
    breakdown[category] = (breakdown[category] ?? 0) + us / 1000;
  });
  return breakdown;
}
