import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors';
import { float16ToFloat32, float32ToFloat16 } from '../onnx/float16';
import { createSession, type RuntimeOptions } from './runtime';
import { isIntTensor, type Feed, type FloatTensor } from './tensor';

/** Receives the milliseconds each ONNX Runtime run took, by model file (the benchmark's ORT share). */
export type RunObserver = (path: string, milliseconds: number) => void;

let runObserver: RunObserver | undefined;

/** Installs (or, with undefined, removes) the one process-wide run observer; none by default. */
export function observeRuns(observer: RunObserver | undefined): void {
  runObserver = observer;
}

export interface InputInfo {
  name: string;
  type: ort.Tensor.Type;
  /** Declared shape; symbolic dimensions are strings, unknown ones -1. */
  shape: ReadonlyArray<number | string>;
}

/**
 * One ONNX Runtime session with the conversions every model needs at its boundary: exports
 * differ in dtypes (fp16 vs fp32, int32 vs int64 ids, float vs int64 timesteps), and the
 * pipeline should not care.
 */
export class OnnxModel {
  /** Runs in flight, which a release waits for. */
  private readonly running = new Set<Promise<unknown>>();
  /** Sessions that must not be held at the same time as this one (see exclusiveWith). */
  private readonly rivals: OnnxModel[] = [];
  private opening?: Promise<ort.InferenceSession>;
  private released = false;

  private constructor(
    readonly path: string,
    private readonly runtime: RuntimeOptions,
    /** Undefined while released by a rival; created again by the next run. */
    private session: ort.InferenceSession | undefined,
    readonly inputs: ReadonlyMap<string, InputInfo>,
    readonly outputNames: readonly string[],
    /** Whether an input or output is float16: the mark of a float16 export. */
    readonly float16Io: boolean,
  ) {}

  static async load(path: string, runtime: RuntimeOptions): Promise<OnnxModel> {
    const session = await createSession(path, runtime);
    const inputs = new Map<string, InputInfo>();
    for (const meta of session.inputMetadata) {
      if (!meta.isTensor) throw new ModelError(`${path}: input "${meta.name}" is not a tensor`);
      inputs.set(meta.name, { name: meta.name, type: meta.type, shape: meta.shape });
    }
    const float16Io = [...session.inputMetadata, ...session.outputMetadata].some((meta) => meta.isTensor && meta.type === 'float16');
    return new OnnxModel(path, runtime, session, inputs, [...session.outputNames], float16Io);
  }

  /**
   * Makes this model and `other` hold their sessions in turn: before one runs, the other's session
   * is released (after its runs in flight) and is created again when it next runs. Two variants of
   * one U-Net so hold its weights once, at the price of a session creation at each switch.
   */
  exclusiveWith(other: OnnxModel): void {
    this.rivals.push(other);
    other.rivals.push(this);
  }

  /** Whether the session is in memory now (not released for a rival's). */
  get held(): boolean {
    return this.session !== undefined;
  }

  /** Releases the session, once the runs in flight are done; the next run creates it again. */
  async suspend(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    await Promise.allSettled([...this.running]);
    await session.release();
  }

  hasInput(name: string): boolean {
    return this.inputs.has(name);
  }

  input(name: string): InputInfo {
    const info = this.inputs.get(name);
    if (!info) {
      throw new ModelError(`${this.path}: expected an input named "${name}"; the model has ${[...this.inputs.keys()].join(', ')}`);
    }
    return info;
  }

  requireOutput(name: string): void {
    if (!this.outputNames.includes(name)) {
      throw new ModelError(`${this.path}: expected an output named "${name}"; the model has ${this.outputNames.join(', ')}`);
    }
  }

  async run(feeds: Record<string, Feed>, outputs: readonly string[]): Promise<Record<string, FloatTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(feed, this.input(name));
    for (const rival of this.rivals) await rival.suspend();
    const session = this.session ?? (await this.reopen());
    const started = performance.now();
    const running = session.run(ortFeeds, outputs as string[]);
    this.running.add(running);
    const result = await running.finally(() => this.running.delete(running));
    runObserver?.(this.path, performance.now() - started);
    const out: Record<string, FloatTensor> = {};
    for (const name of outputs) out[name] = fromOrtTensor(result[name] as ort.Tensor, name, this.path);
    for (const t of Object.values(result)) t.dispose();
    return out;
  }

  async release(): Promise<void> {
    this.released = true;
    await this.suspend();
  }

  private reopen(): Promise<ort.InferenceSession> {
    if (this.released) return Promise.reject(new Error(`${this.path}: the session was released`));
    this.opening ??= (async () => {
      try {
        this.session = await createSession(this.path, this.runtime);
        return this.session;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }
}

function toOrtTensor(feed: Feed, info: InputInfo): ort.Tensor {
  const dims = feed.dims;
  if (isIntTensor(feed)) {
    switch (info.type) {
      case 'int64':
        return new ort.Tensor('int64', BigInt64Array.from(feed.ints, (v) => BigInt(v)), dims);
      case 'int32':
        return new ort.Tensor('int32', feed.ints, dims);
      case 'float32':
        return new ort.Tensor('float32', Float32Array.from(feed.ints), dims);
      case 'float16':
        return new ort.Tensor('float16', float32ToFloat16(Float32Array.from(feed.ints)), dims);
    }
  } else {
    switch (info.type) {
      case 'float32':
        return new ort.Tensor('float32', feed.data, dims);
      case 'float16':
        return new ort.Tensor('float16', float32ToFloat16(feed.data), dims);
      case 'int64':
        return new ort.Tensor('int64', BigInt64Array.from(feed.data, (v) => BigInt(Math.round(v))), dims);
      case 'int32':
        return new ort.Tensor('int32', Int32Array.from(feed.data, Math.round), dims);
    }
  }
  throw new ModelError(`input "${info.name}" has type ${info.type}, which Styleset does not feed (expected float32, float16, int32 or int64)`);
}

function fromOrtTensor(t: ort.Tensor, name: string, path: string): FloatTensor {
  const dims = [...t.dims];
  if (t.type === 'float32') return { data: new Float32Array(t.data as Float32Array), dims };
  if (t.type === 'float16') return { data: float16ToFloat32(t.data as Uint16Array), dims };
  throw new ModelError(`${path}: output "${name}" has type ${t.type}; expected float32 or float16`);
}

