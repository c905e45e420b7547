import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DAEMON_URL,
  DEFAULT_PORT,
  REFERENCE_IMAGE_DEFAULTS,
  STYLE_ALIGNED_DEFAULTS,
  VECTOR_DEFAULTS,
  referenceOptionsSchema,
  referenceSampling,
  resolveOptions,
  setOptionsSchema,
  type ModelInfo,
} from '../src';

type Model = Pick<ModelInfo, 'kind' | 'width' | 'height' | 'defaults'>;

const sd1: Model = { kind: 'sd1', width: 512, height: 512, defaults: { scheduler: 'ddim', steps: 50, guidance: 7.5 } };
const sdxl: Model = { kind: 'sdxl', width: 1024, height: 1024, defaults: { scheduler: 'ddim', steps: 50, guidance: 7.5 } };
const lcm: Model = { kind: 'sd1', width: 512, height: 512, defaults: { scheduler: 'lcm', steps: 4, guidance: 1 } };

describe('defaults', () => {
  it("are the reference implementation's text-to-image defaults (no shared norms)", () => {
    expect(STYLE_ALIGNED_DEFAULTS).toEqual({
      shareAttention: true,
      adainQueries: true,
      adainKeys: true,
      adainValues: false,
      sharedScoreScale: 1,
      sharedScoreShift: 0,
      onlySelfLevel: 0,
      fullAttentionShare: false,
      shareGroupNorm: false,
      shareLayerNorm: false,
      negativePrompt: '',
    });
  });

  it("are the image-reference example's on the image path", () => {
    expect(REFERENCE_IMAGE_DEFAULTS).toEqual({
      scheduler: 'ddim',
      steps: 50,
      guidance: 10,
      sharedScoreShift: Math.log(2),
      shareGroupNorm: true,
      shareLayerNorm: true,
      inversionGuidance: 2,
      inversionOffset: 5,
    });
  });

  it('are PNG output with the background kept, one palette per set for SVGs', () => {
    expect(VECTOR_DEFAULTS).toEqual({ format: 'png', background: 'keep', palette: 'set' });
  });

  it('are themselves valid options', () => {
    expect(setOptionsSchema.safeParse(STYLE_ALIGNED_DEFAULTS).success).toBe(true);
    expect(setOptionsSchema.safeParse(VECTOR_DEFAULTS).success).toBe(true);
    expect(referenceOptionsSchema.safeParse(VECTOR_DEFAULTS).success).toBe(true);
    expect(referenceOptionsSchema.safeParse(REFERENCE_IMAGE_DEFAULTS).success).toBe(true);
    expect(referenceOptionsSchema.safeParse(resolveOptions('reference', sdxl)).success).toBe(true);
  });
});

describe('resolveOptions', () => {
  it("fills a set on SD 1.x from the method's defaults, the model's and its size", () => {
    expect(resolveOptions('set', sd1)).toEqual({
      ...STYLE_ALIGNED_DEFAULTS,
      format: 'png',
      background: 'keep',
      palette: 'set',
      scheduler: 'ddim',
      steps: 50,
      guidance: 7.5,
      inversionGuidance: 2,
      inversionOffset: 5,
      width: 512,
      height: 512,
    });
  });

  it('fills a set on SDXL from the SDXL example', () => {
    expect(resolveOptions('set', sdxl)).toMatchObject({ shareGroupNorm: false, shareLayerNorm: false, width: 1024 });
  });

  it("takes a distilled model's sampler, steps and guidance", () => {
    expect(resolveOptions('set', lcm)).toMatchObject({ scheduler: 'lcm', steps: 4, guidance: 1 });
  });

  it('fills reference and inversion jobs from the image-reference example, over the model', () => {
    for (const kind of ['reference', 'inversion'] as const) {
      expect(resolveOptions(kind, lcm)).toMatchObject(REFERENCE_IMAGE_DEFAULTS);
      expect(resolveOptions(kind, sdxl)).toMatchObject({ shareGroupNorm: true, width: 1024 });
    }
  });

  it('keeps what the client gave, and leaves model, seed and batch size to the daemon', () => {
    const resolved = resolveOptions('set', sdxl, { steps: 20, guidance: 3, width: 768, shareGroupNorm: true });
    expect(resolved).toMatchObject({ steps: 20, guidance: 3, width: 768, height: 1024, shareGroupNorm: true });
    for (const open of ['model', 'seed', 'batchSize', 'previewEvery']) expect(resolved).not.toHaveProperty(open);
    const chosen = resolveOptions('set', sd1, { model: 'sd15', seed: 9, batchSize: 3 });
    expect(chosen).toMatchObject({ model: 'sd15', seed: 9, batchSize: 3 });
  });

  it('fills the vector options of every kind, and keeps those given', () => {
    for (const kind of ['set', 'reference', 'inversion'] as const) {
      expect(resolveOptions(kind, sd1)).toMatchObject({ format: 'png', background: 'keep', palette: 'set' });
    }
    expect(resolveOptions('reference', sd1, { format: 'both', palette: 'image' })).toMatchObject({ format: 'both', background: 'keep', palette: 'image' });
    expect(resolveOptions('set', sd1, { background: 'transparent', format: undefined })).toMatchObject({ format: 'png', background: 'transparent' });
  });

  it("takes the StyleAligned settings the model recommends for sets, under the reference-image path's and what the client gave", () => {
    const recommending: Model = { ...sd1, defaults: { ...sd1.defaults, styleAligned: { shareGroupNorm: true, sharedScoreShift: 0.5, adainValues: true } } };
    expect(resolveOptions('set', recommending)).toMatchObject({ shareGroupNorm: true, sharedScoreShift: 0.5, adainValues: true, shareLayerNorm: false, steps: 50 });
    expect(resolveOptions('set', recommending)).not.toHaveProperty('styleAligned');
    expect(resolveOptions('reference', recommending)).toMatchObject({ sharedScoreShift: Math.log(2), shareGroupNorm: true, adainValues: true, shareLayerNorm: true });
    expect(resolveOptions('set', recommending, { shareGroupNorm: false, sharedScoreShift: 0 })).toMatchObject({ shareGroupNorm: false, sharedScoreShift: 0, adainValues: true });
  });

  it('takes the guidance the model recommends for the reference-image path there, under what the client gave', () => {
    const recommending: Model = { ...sd1, defaults: { ...sd1.defaults, guidance: 4, referenceGuidance: 4 } };
    expect(resolveOptions('set', recommending).guidance).toBe(4);
    expect(resolveOptions('reference', recommending)).toMatchObject({ guidance: 4, steps: 50, scheduler: 'ddim' });
    expect(resolveOptions('inversion', recommending).guidance).toBe(4);
    expect(resolveOptions('reference', recommending)).not.toHaveProperty('referenceGuidance');
    expect(resolveOptions('reference', recommending, { guidance: 12 }).guidance).toBe(12);
    // A distilled model's guidance is its sampler's, not a recommendation: the image path keeps its 10.
    expect(resolveOptions('reference', lcm).guidance).toBe(REFERENCE_IMAGE_DEFAULTS.guidance);
  });

  it("is the image path's sampler there, the one a style rebound to another model inverts with", () => {
    const recommending: Model = { ...sd1, defaults: { ...sd1.defaults, guidance: 4, referenceGuidance: 4 } };
    expect(referenceSampling(4)).toEqual({ scheduler: 'ddim', steps: 50, guidance: 4 });
    expect(referenceSampling(undefined)).toEqual({ scheduler: 'ddim', steps: 50, guidance: 10 });
    for (const model of [sd1, lcm, recommending]) {
      expect(resolveOptions('reference', model)).toMatchObject(referenceSampling(model.defaults.referenceGuidance));
    }
  });

  it('does not let an explicit undefined erase a default', () => {
    const resolved = resolveOptions('set', sd1, { steps: undefined, width: undefined });
    expect(resolved).toMatchObject({ steps: 50, width: 512 });
  });
});

describe('the daemon address', () => {
  it('is loopback on the default port', () => {
    const url = new URL(DEFAULT_DAEMON_URL);
    expect([url.protocol, url.hostname, Number(url.port)]).toEqual(['ws:', '127.0.0.1', DEFAULT_PORT]);
  });
});
