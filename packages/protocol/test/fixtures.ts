import {
  LIMITS,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ClientMessageOf,
  type DaemonMessage,
  type DaemonMessageOf,
  type SubmitMessage,
} from '../src';

type Submit<K extends SubmitMessage['kind']> = Extract<SubmitMessage, { kind: K }>;

const v = PROTOCOL_VERSION;

/** Distinct byte values, so a misplaced slice cannot compare equal by accident. */
export function bytesOf(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 256);
}

export const png = bytesOf(300);
export const jpeg = bytesOf(120);
export const preview = bytesOf(40);
export const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><path fill="#1f6feb" d="M8 8h48v48H8z"/></svg>');

export const hello: ClientMessageOf<'hello'> = { v, type: 'hello', id: 'h1', token: 'pairing-token' };

export const submitSet: Submit<'set'> = {
  v,
  type: 'submit',
  id: 's1',
  kind: 'set',
  prompts: ['a toy train', 'a toy car'],
  options: {
    model: 'sdxl-base',
    negativePrompt: 'blurry',
    steps: 30,
    guidance: 5,
    seed: 42,
    width: 512,
    height: 768,
    scheduler: 'euler_ancestral',
    batchSize: 4,
    previewEvery: 5,
    format: 'both',
    background: 'transparent',
    palette: 'set',
    shareAttention: true,
    adainQueries: true,
    adainKeys: true,
    adainValues: false,
    sharedScoreScale: 1,
    sharedScoreShift: 0,
    onlySelfLevel: 0.25,
    fullAttentionShare: false,
    shareGroupNorm: false,
    shareLayerNorm: false,
  },
};

export const submitReference: Submit<'reference'> = {
  v,
  type: 'submit',
  id: 's2',
  kind: 'reference',
  prompts: ['a man eats pizza, medieval painting'],
  referencePrompt: 'Man laying in a bed, medieval painting.',
  attachment: { byteLength: jpeg.length, mime: 'image/jpeg' },
  options: { guidance: 10, inversionGuidance: 2, inversionOffset: 5, sharedScoreShift: Math.LN2, format: 'svg', palette: 'image' },
};

export const submitReferenceReusing: Submit<'reference'> = {
  v,
  type: 'submit',
  id: 's3',
  kind: 'reference',
  prompts: ['a woman playing saxophone'],
  referencePrompt: 'Man laying in a bed, medieval painting.',
  inversionJobId: 'job-7',
};

export const submitInversion: Submit<'inversion'> = {
  v,
  type: 'submit',
  id: 's4',
  kind: 'inversion',
  referencePrompt: '',
  attachment: { byteLength: png.length, mime: 'image/png' },
  options: { steps: 50, inversionGuidance: 2, width: 1024, height: 1024 },
};

/** Three more icons in a saved style, placed after the 4 images of the set it was saved from. */
export const submitStyled: Submit<'set'> = {
  v,
  type: 'submit',
  id: 's5',
  kind: 'set',
  prompts: ['a bell icon', 'a cloud icon', 'a lock icon'],
  style: 'brand-icons',
  firstIndex: 4,
  options: { format: 'svg', previewEvery: 2 },
};

export const saveStyleFromJob: ClientMessageOf<'save_style'> = { v, type: 'save_style', id: 'st1', name: 'brand-icons', jobId: 'job-1' };

export const saveStyleFromImage: ClientMessageOf<'save_style'> = {
  v,
  type: 'save_style',
  id: 'st2',
  name: 'fox_logo',
  referencePrompt: 'a fox logo, flat orange',
  attachment: { byteLength: png.length, mime: 'image/png' },
  options: { model: 'sdxl-base', steps: 30, width: 1024, height: 1024, sharedScoreShift: 0.5, inversionOffset: 3, batchSize: 3 },
  replace: true,
};

/** Every client message type, each with the bytes it travels with. */
export const clientMessages: Array<[string, ClientMessage, Uint8Array?]> = [
  ['hello', hello],
  ['list_models', { v, type: 'list_models', id: 'm1' }],
  ['get_model', { v, type: 'get_model', id: 'm2', model: 'default' }],
  ['submit set', submitSet],
  ['submit reference (image)', submitReference, jpeg],
  ['submit reference (inversion reused)', submitReferenceReusing],
  ['submit inversion', submitInversion, png],
  ['cancel', { v, type: 'cancel', id: 'c1', jobId: 'job-1' }],
  ['get_status', { v, type: 'get_status', id: 'g1', jobId: 'job-1' }],
  ['get_status', { v, type: 'get_status', id: 'g2', jobId: 'job-1', follow: false }],
  ['get_queue', { v, type: 'get_queue', id: 'q1' }],
  ['get_results', { v, type: 'get_results', id: 'g2', jobId: 'job-1', fromIndex: 2 }],
  ['submit set (in a saved style)', submitStyled],
  ['list_styles', { v, type: 'list_styles', id: 'l1' }],
  ['save_style (from a set)', saveStyleFromJob],
  ['save_style (from an image)', saveStyleFromImage, png],
  ['delete_style', { v, type: 'delete_style', id: 'd1', name: 'brand-icons' }],
];

export const modelInfo: DaemonMessageOf<'model'>['model'] = {
  id: 'sdxl-base',
  name: 'SDXL base 1.0',
  kind: 'sdxl',
  width: 1024,
  height: 1024,
  defaults: { scheduler: 'ddim', steps: 50, guidance: 7.5 },
  loaded: false,
  path: '/models/sdxl-base',
};

/** A model whose folder recommends StyleAligned settings (its styleset.json). */
export const embeddedModelInfo: DaemonMessageOf<'model'>['model'] = {
  id: 'default',
  name: 'Styleset icons',
  kind: 'default',
  width: 128,
  height: 128,
  defaults: { scheduler: 'ddim', steps: 20, guidance: 7.5, styleAligned: { shareGroupNorm: true, sharedScoreShift: Math.LN2 } },
  loaded: true,
};

export const result: DaemonMessageOf<'result'> = {
  v,
  type: 'result',
  id: 's1',
  jobId: 'job-1',
  index: 1,
  prompt: 'a toy car',
  seed: 43,
  width: 512,
  height: 768,
  attachment: { byteLength: png.length, mime: 'image/png' },
};

/** The same image of a `both` job as an SVG, sent after the last PNG; its background could not be removed. */
export const svgResult: DaemonMessageOf<'result'> = {
  ...result,
  format: 'svg',
  warning: 'the background was kept: the icon touches the border',
  attachment: { byteLength: svg.length, mime: 'image/svg+xml' },
};

/** What `done` and `status` say of a `both` job's SVGs: one palette, and an image that got none. */
export const vectorSummary: NonNullable<DaemonMessageOf<'done'>['vector']> = {
  palettes: [{ colors: ['#1f6feb', '#ffffff'], images: [0, 2] }],
  failed: [{ index: 1, warning: 'no SVG: tracing failed' }],
};

export const progressWithPreview: DaemonMessageOf<'progress'> = {
  v,
  type: 'progress',
  id: 's1',
  jobId: 'job-1',
  phase: 'denoising',
  step: 12,
  total: 30,
  etaMs: 4200,
  attachment: { byteLength: preview.length, mime: 'image/jpeg' },
};

/** A style saved from a 4-image set on the embedded model. */
export const styleInfo: DaemonMessageOf<'style'>['style'] = {
  name: 'brand-icons',
  kind: 'set',
  prompt: 'a star icon, flat, blue',
  seed: 3,
  model: { id: 'default', unetSha256: 'a'.repeat(64) },
  options: {
    negativePrompt: '',
    steps: 8,
    guidance: 7.5,
    width: 64,
    height: 64,
    scheduler: 'ddim',
    batchSize: 4,
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
  },
  nextIndex: 4,
  createdAt: '2025-01-02T03:04:05.000Z',
};

/** The same kind of record for a style made from an image. */
export const imageStyleInfo: DaemonMessageOf<'style'>['style'] = {
  ...styleInfo,
  name: 'fox_logo',
  kind: 'image',
  prompt: 'a fox logo, flat orange',
  seed: undefined,
  // Its own object: a test that alters one style must not alter the other.
  model: { id: 'sdxl-base', unetSha256: 'b'.repeat(64) },
  options: { ...styleInfo.options, steps: 50, guidance: 10, batchSize: undefined, inversionGuidance: 2, inversionOffset: 5 },
  nextIndex: 0,
};
delete imageStyleInfo.seed;
delete imageStyleInfo.options.batchSize;

/** Every daemon message type, each with the bytes it travels with. */
export const daemonMessages: Array<[string, DaemonMessage, Uint8Array?]> = [
  ['welcome', { v, type: 'welcome', id: 'h1', daemonVersion: '0.1.0', limits: LIMITS, defaultModel: 'default' }],
  [
    'models',
    {
      v,
      type: 'models',
      id: 'm1',
      models: [
        modelInfo,
        embeddedModelInfo,
      ],
    },
  ],
  ['model', { v, type: 'model', id: 'm2', model: modelInfo }],
  ['model (recommending StyleAligned settings)', { v, type: 'model', id: 'm3', model: embeddedModelInfo }],
  ['accepted', { v, type: 'accepted', id: 's1', jobId: 'job-1', position: 2, count: 2 }],
  ['progress', { v, type: 'progress', jobId: 'job-1', phase: 'loading', step: 0, total: 1 }],
  ['progress with preview', progressWithPreview, preview],
  ['result', result, png],
  ['result (png of a vector job)', { ...result, format: 'png' }, png],
  ['result (svg)', svgResult, svg],
  [
    'done',
    {
      v,
      type: 'done',
      id: 's1',
      jobId: 'job-1',
      count: 2,
      timings: { queuedMs: 10, runMs: 5000, phases: { loading: 900, encoding: 40, denoising: 3900, decoding: 160 } },
    },
  ],
  [
    'done (with SVGs)',
    { v, type: 'done', id: 's1', jobId: 'job-1', count: 3, timings: { queuedMs: 0, runMs: 2100, phases: { decoding: 60 } }, vector: vectorSummary },
  ],
  ['job_error', { v, type: 'job_error', id: 's1', jobId: 'job-1', code: 'model_invalid', message: 'unet/model.onnx is missing', field: 'options.model' }],
  [
    'status',
    {
      v,
      type: 'status',
      id: 'g1',
      jobId: 'job-1',
      kind: 'set',
      state: 'cancelled',
      completed: 1,
      count: 2,
      error: { code: 'cancelled', message: 'cancelled by the client' },
    },
  ],
  ['status (with SVGs)', { v, type: 'status', id: 'g3', jobId: 'job-1', kind: 'set', state: 'done', completed: 3, count: 3, vector: vectorSummary }],
  [
    'queue',
    {
      v,
      type: 'queue',
      id: 'q1',
      running: true,
      waiting: 2,
      jobs: [
        { jobId: 'job-1', kind: 'set', state: 'running', completed: 1, count: 4 },
        { jobId: 'job-2', kind: 'reference', state: 'queued', position: 2, completed: 0, count: 3 },
      ],
    },
  ],
  ['error', { v, type: 'error', id: 'x1', code: 'unauthorized', message: 'the pairing token is wrong' }],
  ['styles', { v, type: 'styles', id: 'l1', styles: [styleInfo, imageStyleInfo] }],
  ['styles (none)', { v, type: 'styles', id: 'd1', styles: [] }],
  ['style', { v, type: 'style', id: 'st1', style: styleInfo }],
  ['error (style)', { v, type: 'error', id: 's5', code: 'model_mismatch', message: "style brand-icons belongs to model default's U-Net aaaa…, which is now bbbb…", field: 'style' }],
];
