import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, ModelError } from '../../src/errors';
import { availableProviders, createSession, sessionFailure } from '../../src/model/runtime';
import { DataType, encodeModel, GraphBuilder } from '../../src/onnx';

// What onnxruntime-node 1.30 throws on a Linux machine without a GPU (Dawn finds no Vulkan adapter).
const NO_ADAPTER =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(' +
  'const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. ' +
  'Failed to get a WebGPU adapter: No supported adapters\n';

describe('a session the provider cannot create', () => {
  it('without a WebGPU adapter: an input error that says the machine lacks a GPU for WebGPU and what to use instead', () => {
    const error = sessionFailure('/m/unet/model.onnx', 'webgpu', new Error(NO_ADAPTER));
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('no GPU adapter WebGPU can use');
    expect(error.message).toContain('Failed to get a WebGPU adapter: No supported adapters');
    expect(error.message).toContain('--provider cpu');
    // Not the model's fault: the file is not named.
    expect(error.message).not.toContain('/m/unet/model.onnx');
  });

  it('otherwise: a model error naming the file and the provider', () => {
    const error = sessionFailure('/m/unet/model.onnx', 'webgpu', new Error('Load model from /m/unet/model.onnx failed: Protobuf parsing failed.'));
    expect(error).toBeInstanceOf(ModelError);
    expect(error.message).toMatch(/^\/m\/unet\/model\.onnx: ONNX Runtime could not load this model with provider webgpu: .*Protobuf parsing failed/);
    // The adapter message on another provider is passed on as it is.
    expect(sessionFailure('/m/a.onnx', 'cuda', new Error(NO_ADAPTER))).toBeInstanceOf(ModelError);
  });

  it('on this machine, --provider webgpu either creates a working session or fails with one of the clear errors', async () => {
    const b = new GraphBuilder({ graphName: 'probe', opset: 17 });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    b.output(b.op(b.scope('/probe'), 'Add', [x, x]), 'y', DataType.FLOAT, [1, 4]);
    const dir = await mkdtemp(join(tmpdir(), 'styleset-webgpu-'));
    try {
      const path = join(dir, 'probe.onnx');
      await writeFile(path, encodeModel(b.build()));
      const outcome = await createSession(path, { provider: 'webgpu' }).then(
        async (session) => {
          await session.release();
          return 'session';
        },
        (error: unknown) => error,
      );
      if (outcome === 'session') return;
      expect(outcome).toBeInstanceOf(InputError);
      const expected = availableProviders().includes('webgpu') ? 'no GPU adapter WebGPU can use' : 'is not available on this platform';
      expect((outcome as InputError).message).toContain(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
