import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError, ModelError, type StylesetError } from '../errors';

export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export interface RuntimeOptions {
  provider: ExecutionProvider;
  /** Intra-op threads; when absent, one per CPU this process may run on (its affinity mask, e.g. under taskset). */
  threads?: number;
  /**
   * Run float16 exports as exported on the CPU provider. By default they run from float32 copies
   * kept in the data folder (see model/float32-copy.ts).
   */
  keepFloat16?: boolean;
  /**
   * The memory a U-Net batch may take, in MiB; sets the default batch size (engine/batch-size.ts).
   * Absent: half the available system memory on the CPU provider, a fixed default on others.
   */
  memoryLimitMiB?: number;
  /** Replaces the defaults of `sessionOptions()` key by key: for measuring alternatives (the benchmark). */
  sessionOverrides?: ort.InferenceSession.SessionOptions;
}

export const DEFAULT_RUNTIME: RuntimeOptions = { provider: 'cpu' };

/** Names of providers this onnxruntime-node build can load on this platform. */
export function availableProviders(): string[] {
  return ort.listSupportedBackends().map((b) => b.name);
}

export interface ProviderInfo {
  name: string;
  /** Inside the onnxruntime-node package; the others need libraries of their own. */
  bundled: boolean;
  /** For a provider that is not bundled: whether its libraries are where ONNX Runtime loads them from. */
  libraries?: { present: boolean; dir: string };
}

/** The onnxruntime-node in use: its version, folder and providers, for `styleset doctor`. */
export function runtimeInfo(): { version: string; packageDir: string; providers: ProviderInfo[] } {
  // dist/index.js of the package that this module (or the bundle) resolves.
  const packageDir = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  const binDir = join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
  const library = (name: string) =>
    process.platform === 'win32' ? `onnxruntime_providers_${name}.dll` : process.platform === 'darwin' ? `libonnxruntime_providers_${name}.dylib` : `libonnxruntime_providers_${name}.so`;
  const providers = ort.listSupportedBackends().map(({ name, bundled }) =>
    bundled ? { name, bundled } : { name, bundled, libraries: { present: existsSync(join(binDir, library(name))), dir: binDir } },
  );
  return { version: ort.env.versions.node ?? 'unknown', packageDir, providers };
}

export function parseProvider(value: string): ExecutionProvider {
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(value)) {
    throw new InputError(`unknown execution provider "${value}": expected one of ${EXECUTION_PROVIDERS.join(', ')}`);
  }
  return value as ExecutionProvider;
}

function checkProvider(provider: ExecutionProvider): void {
  const available = availableProviders();
  if (!available.includes(provider)) {
    throw new InputError(
      `execution provider "${provider}" is not available on this platform (${process.platform}/${process.arch}); ` +
        `available: ${available.join(', ')}`,
    );
  }
}

/**
 * Session options chosen for diffusion on CPU: full graph optimisation (fusions for attention,
 * GELU and LayerNorm matter for U-Nets), the memory arena and memory patterns kept on because
 * every call repeats the same shapes, sequential execution since parallelism comes from the
 * intra-op thread pool.
 */
export function sessionOptions(runtime: RuntimeOptions): ort.InferenceSession.SessionOptions {
  // Not cpus().length: a process pinned to fewer CPUs would run more spinning threads than it has cores.
  const threads = runtime.threads ?? Math.max(1, availableParallelism());
  return {
    executionProviders: runtime.provider === 'cpu' ? ['cpu'] : [runtime.provider, 'cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    ...runtime.sessionOverrides,
  };
}

/** Creates a session, turning ONNX Runtime's failures into errors that name the file. */
export async function createSession(path: string, runtime: RuntimeOptions): Promise<ort.InferenceSession> {
  checkProvider(runtime.provider);
  try {
    return await ort.InferenceSession.create(path, sessionOptions(runtime));
  } catch (err) {
    throw sessionFailure(path, runtime.provider, err);
  }
}

/**
 * The error for a session ONNX Runtime would not create. A missing WebGPU adapter is the machine's
 * doing, not the model's: WebGPU (Dawn) needs a GPU driver, and the error says so rather than
 * blame the file.
 */
export function sessionFailure(path: string, provider: ExecutionProvider, err: unknown): StylesetError {
  const reason = err instanceof Error ? err.message : String(err);
  const adapter = /Failed to get a WebGPU adapter[^\n]*/.exec(reason);
  if (provider === 'webgpu' && adapter) {
    return new InputError(
      `execution provider "webgpu": this machine has no GPU adapter WebGPU can use (${adapter[0].trim()}). ` +
        'WebGPU needs a GPU and its driver: Vulkan on Linux (software Vulkan such as lavapipe lacks features Dawn requires), ' +
        'Direct3D 12 on Windows, Metal on macOS. Use --provider cpu on this machine.',
      { cause: err },
    );
  }
  const hint = provider === 'cuda' ? ' (CUDA needs the GPU files installed: see the README section "GPU")' : '';
  return new ModelError(`${path}: ONNX Runtime could not load this model with provider ${provider}${hint}: ${reason}`, { cause: err });
}
