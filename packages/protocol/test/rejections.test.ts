import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  PROTOCOL_VERSION,
  VECTOR_LIMITS,
  decodeClientMessage,
  decodeDaemonMessage,
  encodeMessage,
  type DecodeResult,
  type ErrorCode,
  type Message,
} from '../src';
import {
  bytesOf,
  hello,
  jpeg,
  modelInfo,
  png,
  preview,
  progressWithPreview,
  result,
  saveStyleFromImage,
  saveStyleFromJob,
  styleInfo,
  submitInversion,
  submitStyled,
  svg,
  svgResult,
  vectorSummary,
  submitReference,
  submitSet,
} from './fixtures';

const v = PROTOCOL_VERSION;

/** The error of a result that must be a failure, with its exact code and field. */
function rejected(decoded: DecodeResult<Message>, code: ErrorCode, field?: string) {
  if (decoded.ok) throw new Error(`expected ${code} at ${field}, got a message: ${JSON.stringify(decoded.message)}`);
  expect(decoded.error.code).toBe(code);
  expect(decoded.error.field).toBe(field);
  return decoded.error;
}

/** A binary frame built by hand, so tests can lie in any part of it. */
function binaryFrame(header: unknown, bytes: Uint8Array, declaredHeaderLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const frame = new Uint8Array(4 + json.length + bytes.length);
  new DataView(frame.buffer).setUint32(0, declaredHeaderLength ?? json.length, false);
  frame.set(json, 4);
  frame.set(bytes, 4 + json.length);
  return frame;
}

const client = (message: object) => decodeClientMessage(JSON.stringify(message));
const daemon = (message: object) => decodeDaemonMessage(JSON.stringify(message));
const withOptions = (options: object) => client({ ...submitSet, options: { ...submitSet.options, ...options } });

describe('frames', () => {
  it('rejects malformed JSON', () => {
    expect(rejected(decodeClientMessage('{"v":1,"type":'), 'bad_message').message).toMatch(/^not valid JSON/);
  });

  it.each(['[1,2]', 'null', '42', '"hello"'])('rejects %s: not an object', (text) => {
    expect(rejected(decodeClientMessage(text), 'bad_message').message).toBe('a message must be a JSON object');
  });

  it('rejects a text frame over the limit', () => {
    rejected(decodeClientMessage(' '.repeat(LIMITS.maxTextMessageBytes + 1)), 'too_large', 'frame');
  });

  it('measures a text frame in UTF-8 bytes, not characters', () => {
    const text = `"${'€'.repeat(Math.ceil(LIMITS.maxTextMessageBytes / 3))}"`;
    expect(text.length).toBeLessThan(LIMITS.maxTextMessageBytes);
    rejected(decodeClientMessage(text), 'too_large', 'frame');
  });

  it('rejects a binary frame over the limit', () => {
    rejected(decodeClientMessage(new Uint8Array(LIMITS.maxBinaryFrameBytes + 1)), 'too_large', 'frame');
  });

  it('rejects a binary frame too short for its header length', () => {
    rejected(decodeClientMessage(new Uint8Array([0, 0, 1])), 'bad_message', 'frame');
  });

  it('rejects a header length beyond the end of the frame', () => {
    const frame = binaryFrame(submitReference, jpeg.subarray(0, 10), 100_000);
    expect(rejected(decodeClientMessage(frame), 'bad_message', 'header').message).toMatch(/declares a 100000-byte header/);
  });

  it('rejects a header length over the text limit before reading it', () => {
    const frame = binaryFrame(submitReference, jpeg, LIMITS.maxTextMessageBytes + 1);
    rejected(decodeClientMessage(frame), 'too_large', 'header');
  });

  it('rejects a header that is not UTF-8', () => {
    const frame = new Uint8Array([0, 0, 0, 2, 0xff, 0xfe, 1, 2]);
    expect(rejected(decodeClientMessage(frame), 'bad_message', 'header').message).toMatch(/not valid UTF-8/);
  });

  it('rejects a header that is not JSON', () => {
    rejected(decodeClientMessage(binaryFrame('{oops', jpeg)), 'bad_message');
  });

  it('rejects a header length that cuts the JSON short', () => {
    const json = JSON.stringify(submitReference);
    rejected(decodeClientMessage(binaryFrame(json, jpeg, json.length - 1)), 'bad_message');
  });

  it('rejects an attachment.byteLength larger than the bytes carried', () => {
    const frame = binaryFrame(submitReference, jpeg.subarray(1));
    expect(rejected(decodeClientMessage(frame), 'bad_message', 'attachment.byteLength').message).toBe(
      'attachment.byteLength says 120 bytes but the frame carries 119',
    );
  });

  it('rejects an attachment.byteLength smaller than the bytes carried', () => {
    const frame = binaryFrame(result, bytesOf(png.length + 1));
    rejected(decodeDaemonMessage(frame), 'bad_message', 'attachment.byteLength');
  });

  it('rejects an attachment in a text frame', () => {
    rejected(decodeDaemonMessage(JSON.stringify(result)), 'bad_message', 'attachment');
    rejected(client(submitInversion), 'bad_message', 'attachment');
  });

  it('rejects bytes after a message that declares no attachment', () => {
    rejected(decodeClientMessage(binaryFrame(hello, png)), 'bad_message', 'attachment');
  });

  it('rejects an attachment on a message that takes none', () => {
    const frame = binaryFrame({ ...hello, attachment: { byteLength: png.length, mime: 'image/png' } }, png);
    rejected(decodeClientMessage(frame), 'bad_message', 'attachment');
  });

  it('rejects an image over maxImageBytes from its header alone', () => {
    const header = { ...submitReference, attachment: { byteLength: LIMITS.maxImageBytes + 1, mime: 'image/jpeg' } };
    rejected(decodeClientMessage(binaryFrame(header, jpeg)), 'too_large', 'attachment.byteLength');
  });

  it('rejects a preview over maxPreviewBytes', () => {
    const header = { ...progressWithPreview, attachment: { byteLength: LIMITS.maxPreviewBytes + 1, mime: 'image/png' } };
    rejected(decodeDaemonMessage(binaryFrame(header, preview)), 'too_large', 'attachment.byteLength');
  });

  it('rejects a result that is not a PNG or an SVG', () => {
    const header = { ...result, attachment: { byteLength: png.length, mime: 'image/jpeg' } };
    const error = rejected(decodeDaemonMessage(binaryFrame(header, png)), 'bad_message', 'attachment.mime');
    expect(error.message).toBe('attachment.mime must be "image/png" or "image/svg+xml"');
  });

  it('rejects a result whose format and type disagree', () => {
    const svgAsPng = { ...svgResult, format: 'png' };
    expect(rejected(decodeDaemonMessage(binaryFrame(svgAsPng, svg)), 'bad_message', 'attachment.mime').message).toBe(
      'attachment.mime must be "image/png" for a png result',
    );
    // Without `format` a result is a PNG, as it always was.
    const { format: _, ...unlabelled } = svgResult;
    rejected(decodeDaemonMessage(binaryFrame(unlabelled, svg)), 'bad_message', 'attachment.mime');
    rejected(decodeDaemonMessage(binaryFrame({ ...result, format: 'svg' }, png)), 'bad_message', 'attachment.mime');
  });

  it('rejects an SVG over maxSvgBytes from its header alone, though a PNG may be that big', () => {
    const size = VECTOR_LIMITS.maxSvgBytes + 1;
    const header = { ...svgResult, attachment: { byteLength: size, mime: 'image/svg+xml' } };
    const error = rejected(decodeDaemonMessage(binaryFrame(header, svg)), 'too_large', 'attachment.byteLength');
    expect(error.message).toBe(`attachment.byteLength must be at most ${VECTOR_LIMITS.maxSvgBytes}`);
    const bigPng = { ...result, attachment: { byteLength: size, mime: 'image/png' } };
    // Past the schema: only the frame's length disagrees with the header.
    rejected(decodeDaemonMessage(binaryFrame(bigPng, png)), 'bad_message', 'attachment.byteLength');
  });

  it('rejects a reference image of an unsupported type', () => {
    const header = { ...submitReference, attachment: { byteLength: jpeg.length, mime: 'image/gif' } };
    rejected(decodeClientMessage(binaryFrame(header, jpeg)), 'bad_message', 'attachment.mime');
  });

  it('never throws, whatever arrives', () => {
    let seed = 1;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 300; i++) {
      const frame = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
      // Every third frame gets a truthful header length, so its garbage reaches the JSON parser.
      if (i % 3 === 0 && frame.length >= 4) new DataView(frame.buffer).setUint32(0, frame.length - 4);
      expect(decodeClientMessage(frame).ok).toBe(false);
      expect(decodeDaemonMessage(new TextDecoder().decode(frame)).ok).toBe(false);
    }
  });
});

describe('version', () => {
  it('answers a hello of another version with version_mismatch naming both versions', () => {
    const error = rejected(client({ ...hello, v: 2 }), 'version_mismatch', 'v');
    expect(error.message).toBe('the client speaks protocol version 2; this daemon speaks version 1');
  });

  it('tells a client when the daemon speaks another version', () => {
    const error = rejected(daemon({ v: 3, type: 'welcome', daemonVersion: '9.0.0' }), 'version_mismatch', 'v');
    expect(error.message).toBe('the daemon speaks protocol version 3; this client speaks version 1');
  });

  it('checks v before type: a newer peer may use types this version lacks', () => {
    rejected(client({ v: 2, type: 'subscribe', id: 'a' }), 'version_mismatch', 'v');
  });

  it('checks v on binary frames too', () => {
    rejected(decodeClientMessage(binaryFrame({ ...submitReference, v: 0 }, jpeg)), 'version_mismatch', 'v');
  });

  it('requires v', () => {
    const { v: _, ...unversioned } = hello;
    expect(rejected(client(unversioned), 'bad_message', 'v').message).toBe('v (the protocol version) is required');
  });

  it.each(['1', 1.5, null])('rejects v = %j', (value) => {
    rejected(client({ ...hello, v: value }), 'bad_message', 'v');
  });
});

describe('type', () => {
  it('rejects an unknown type', () => {
    const error = rejected(client({ v, type: 'frobnicate', id: 'a' }), 'unknown_type', 'type');
    expect(error.message).toMatch(/^unknown message type "frobnicate"; expected one of hello, list_models/);
  });

  it('rejects a daemon message sent to the daemon, and a client message sent to a client', () => {
    rejected(client({ v, type: 'welcome', id: 'a' }), 'unknown_type', 'type');
    rejected(daemon(hello), 'unknown_type', 'type');
  });

  it.each(['toString', '__proto__', 'constructor'])('rejects the inherited property name %s', (type) => {
    rejected(client({ v, type, id: 'a' }), 'unknown_type', 'type');
  });

  it('requires type to be a string', () => {
    rejected(client({ v, id: 'a' }), 'bad_message', 'type');
    rejected(client({ v, type: 7, id: 'a' }), 'bad_message', 'type');
  });

  it('rejects an unknown submit kind', () => {
    const error = rejected(client({ ...submitSet, kind: 'remix' }), 'bad_message', 'kind');
    expect(error.message).toBe('kind must be "set" or "reference" or "inversion"');
  });
});

describe('fields', () => {
  it('names a missing field', () => {
    const { token: _, ...tokenless } = hello;
    expect(rejected(client(tokenless), 'bad_message', 'token').message).toBe('token is required');
  });

  it('requires a request id', () => {
    const { id: _, ...anonymous } = hello;
    rejected(client(anonymous), 'bad_message', 'id');
  });

  it('names a mistyped field', () => {
    expect(rejected(client({ ...hello, token: 1234 }), 'bad_message', 'token').message).toBe('token must be a string');
  });

  it('names an unknown field', () => {
    const error = rejected(client({ ...hello, tokn: 'x' }), 'bad_message', 'tokn');
    expect(error.message).toBe('tokn is not a field of this message');
  });

  it('names an option with a typo', () => {
    const error = rejected(withOptions({ stpes: 20 }), 'invalid_option', 'options.stpes');
    expect(error.message).toBe('options.stpes is not a known option');
  });

  it('names a mistyped option', () => {
    expect(rejected(withOptions({ steps: '20' }), 'invalid_option', 'options.steps').message).toBe(
      'options.steps must be a number',
    );
  });

  it.each([
    [{ steps: 0 }, 'options.steps', 'options.steps must be at least 1'],
    [{ steps: 201 }, 'options.steps', 'options.steps must be at most 200'],
    [{ steps: 2.5 }, 'options.steps', 'options.steps must be an integer'],
    [{ guidance: -1 }, 'options.guidance', 'options.guidance must be at least 0'],
    [{ guidance: 51 }, 'options.guidance', 'options.guidance must be at most 50'],
    [{ width: 516 }, 'options.width', 'options.width must be a multiple of 8'],
    [{ width: 4096 }, 'options.width', 'options.width must be at most 2048'],
    [{ height: 4 }, 'options.height', 'options.height must be at least 8'],
    [{ seed: -1 }, 'options.seed', 'options.seed must be at least 0'],
    [{ seed: 2 ** 32 }, 'options.seed', 'options.seed must be at most 4294967295'],
    [{ batchSize: 1 }, 'options.batchSize', 'options.batchSize must be at least 2'],
    [{ batchSize: 65 }, 'options.batchSize', 'options.batchSize must be at most 64'],
    [{ previewEvery: 0 }, 'options.previewEvery', 'options.previewEvery must be at least 1'],
    [{ previewEvery: 2.5 }, 'options.previewEvery', 'options.previewEvery must be an integer'],
    [{ onlySelfLevel: 1.5 }, 'options.onlySelfLevel', 'options.onlySelfLevel must be at most 1'],
    [{ sharedScoreScale: -0.5 }, 'options.sharedScoreScale', 'options.sharedScoreScale must be at least 0'],
    [{ sharedScoreShift: 11 }, 'options.sharedScoreShift', 'options.sharedScoreShift must be at most 10'],
    [{ scheduler: 'pndm' }, 'options.scheduler', 'options.scheduler must be "ddim" or "euler_ancestral" or "lcm"'],
    [{ adainKeys: 'yes' }, 'options.adainKeys', 'options.adainKeys must be a boolean'],
    [{ negativePrompt: 'x'.repeat(LIMITS.maxPromptLength + 1) }, 'options.negativePrompt', 'options.negativePrompt must be at most 1000 characters long'],
    [{ model: '' }, 'options.model', 'options.model must not be empty'],
    [{ format: 'pdf' }, 'options.format', 'options.format must be "png" or "svg" or "both"'],
    [{ format: 'SVG' }, 'options.format', 'options.format must be "png" or "svg" or "both"'],
    [{ background: 'white' }, 'options.background', 'options.background must be "keep" or "transparent"'],
    [{ background: false }, 'options.background', 'options.background must be "keep" or "transparent"'],
    [{ palette: 'global' }, 'options.palette', 'options.palette must be "set" or "image"'],
  ])('rejects %j', (options, field, message) => {
    expect(rejected(withOptions(options), 'invalid_option', field).message).toBe(message);
  });

  it('rejects options that is not an object', () => {
    rejected(client({ ...submitSet, options: [] }), 'invalid_option', 'options');
  });

  it('rejects more prompts than a job may have', () => {
    const prompts = Array.from({ length: LIMITS.maxPromptsPerJob + 1 }, (_, i) => `icon ${i}`);
    expect(rejected(client({ ...submitSet, prompts }), 'bad_message', 'prompts').message).toBe(
      'prompts must have at most 64 items',
    );
  });

  it('rejects an empty prompt list, an empty prompt and an overlong one by index', () => {
    rejected(client({ ...submitSet, prompts: [] }), 'bad_message', 'prompts');
    rejected(client({ ...submitSet, prompts: [''] }), 'bad_message', 'prompts.0');
    const prompts = ['a', 'b', 'c', 'x'.repeat(LIMITS.maxPromptLength + 1)];
    rejected(client({ ...submitSet, prompts }), 'bad_message', 'prompts.3');
  });

  it('keeps image-path options off text-to-image jobs', () => {
    rejected(withOptions({ inversionGuidance: 2 }), 'invalid_option', 'options.inversionGuidance');
  });

  it('keeps generation options off inversion jobs', () => {
    const header = { ...submitInversion, options: { steps: 50, guidance: 7 } };
    rejected(decodeClientMessage(binaryFrame(header, png)), 'invalid_option', 'options.guidance');
  });

  it('keeps vector options off inversion jobs, which make no images', () => {
    const header = { ...submitInversion, options: { format: 'svg' } };
    const error = rejected(decodeClientMessage(binaryFrame(header, png)), 'invalid_option', 'options.format');
    expect(error.message).toBe('options.format is not a known option');
  });

  it('checks the vector options of reference jobs too', () => {
    const header = { ...submitReference, options: { palette: 'every' } };
    rejected(decodeClientMessage(binaryFrame(header, jpeg)), 'invalid_option', 'options.palette');
  });

  describe('reference jobs', () => {
    const reference = (options: object) =>
      decodeClientMessage(binaryFrame({ ...submitReference, options: { ...submitReference.options, ...options } }, jpeg));

    it('need the DDIM scheduler', () => {
      const error = rejected(reference({ scheduler: 'lcm' }), 'invalid_option', 'options.scheduler');
      expect(error.message).toMatch(/must be 'ddim' for a reference image/);
    });

    it('need an inversionOffset below the step count', () => {
      const error = rejected(reference({ steps: 20, inversionOffset: 20 }), 'invalid_option', 'options.inversionOffset');
      expect(error.message).toBe('options.inversionOffset must be less than steps (20)');
    });

    it('blame steps when only steps leave no room for the default offset', () => {
      const { inversionOffset: _, ...options } = submitReference.options ?? {};
      const header = { ...submitReference, options: { ...options, steps: 4 } };
      const error = rejected(decodeClientMessage(binaryFrame(header, jpeg)), 'invalid_option', 'options.steps');
      expect(error.message).toBe('options.steps must be more than inversionOffset (5 by default)');
    });

    it('need the image or an inversionJobId', () => {
      const { attachment: _, ...imageless } = submitReference;
      expect(rejected(client(imageless), 'bad_message', 'attachment').message).toBe(
        'attachment is required: send the reference image in a binary frame, or give an inversionJobId',
      );
    });

    it('take the image or an inversionJobId, not both', () => {
      const frame = binaryFrame({ ...submitReference, inversionJobId: 'job-7' }, jpeg);
      rejected(decodeClientMessage(frame), 'bad_message', 'inversionJobId');
    });
  });

  describe('daemon messages', () => {
    it.each([
      [{ type: 'progress', jobId: 'j', phase: 'denoising', step: 31, total: 30 }, 'step'],
      [{ type: 'progress', jobId: 'j', phase: 'sampling', step: 1, total: 30 }, 'phase'],
      [{ type: 'status', jobId: 'j', kind: 'set', state: 'paused', completed: 0, count: 2 }, 'state'],
      [{ type: 'job_error', jobId: 'j', code: 'oops', message: 'x' }, 'code'],
      [{ type: 'error', code: 'internal', message: '' }, 'message'],
      [{ type: 'accepted', jobId: 'j', position: -1, count: 2 }, 'position'],
      [{ type: 'done', jobId: 'j', count: 2, timings: { queuedMs: 0, runMs: 1, phases: { sampling: 3 } } }, 'timings.phases.sampling'],
      [{ type: 'model', model: { ...modelInfo, kind: 'flux' } }, 'model.kind'],
      [{ type: 'models', models: [modelInfo, { ...modelInfo, width: 500 }] }, 'models.1.width'],
      [{ type: 'model', model: { ...modelInfo, defaults: { scheduler: 'pndm', steps: 50, guidance: 7.5 } } }, 'model.defaults.scheduler'],
      [{ type: 'welcome', daemonVersion: '1', defaultModel: 'default', limits: { maxPromptsPerJob: 64 } }, 'limits.maxTextMessageBytes'],
      [{ ...svgResult, format: 'pdf' }, 'format'],
      [{ ...svgResult, warning: '' }, 'warning'],
      [{ type: 'done', jobId: 'j', count: 1, timings: { queuedMs: 0, runMs: 1, phases: {} }, vector: { palettes: [{ colors: ['#FFFFFF'], images: [0] }] } }, 'vector.palettes.0.colors.0'],
      [{ type: 'done', jobId: 'j', count: 1, timings: { queuedMs: 0, runMs: 1, phases: {} }, vector: { palettes: [{ colors: ['#fff'], images: [0] }] } }, 'vector.palettes.0.colors.0'],
      [{ type: 'done', jobId: 'j', count: 1, timings: { queuedMs: 0, runMs: 1, phases: {} }, vector: { palettes: [{ colors: [], images: [0] }] } }, 'vector.palettes.0.colors'],
      [{ type: 'done', jobId: 'j', count: 1, timings: { queuedMs: 0, runMs: 1, phases: {} }, vector: { palettes: [{ colors: ['#ffffff'], images: [64] }] } }, 'vector.palettes.0.images.0'],
      [{ type: 'status', jobId: 'j', kind: 'set', state: 'done', completed: 1, count: 1, vector: { ...vectorSummary, failed: [] } }, 'vector.failed'],
      [{ type: 'status', jobId: 'j', kind: 'set', state: 'done', completed: 1, count: 1, vector: { failed: vectorSummary.failed } }, 'vector.palettes'],
    ])('rejects %j at %s', (message, field) => {
      rejected(daemon({ v, ...message }), 'bad_message', field);
    });

    it('explains a progress step past its total', () => {
      const error = rejected(daemon({ ...progressWithPreview, attachment: undefined, step: 31 }), 'bad_message', 'step');
      expect(error.message).toBe('step must be at most total (30)');
    });
  });
});

describe('styles', () => {
  const saveImage = (fields: object) => decodeClientMessage(binaryFrame({ ...saveStyleFromImage, ...fields }, png));

  it.each(['', 'Brand', 'brand icons', '../brand', 'brand/x', '-brand', 'x'.repeat(65), 'café'])('refuses the style name %j', (name) => {
    const error = rejected(client({ ...saveStyleFromJob, name }), 'bad_message', 'name');
    expect(error.message).toBe('name must be 1 to 64 lower-case letters, digits, - or _, starting with a letter or digit');
    rejected(client({ ...submitStyled, style: name }), 'bad_message', 'style');
    rejected(client({ v, type: 'delete_style', id: 'd', name }), 'bad_message', 'name');
  });

  it('places prompts by firstIndex only in a style', () => {
    const { style: _, ...unstyled } = submitStyled;
    expect(rejected(client(unstyled), 'bad_message', 'firstIndex').message).toBe("firstIndex needs style: it places the prompts in a saved style's set");
    rejected(client({ ...submitStyled, firstIndex: -1 }), 'bad_message', 'firstIndex');
    rejected(client({ ...submitStyled, firstIndex: 65_536 }), 'bad_message', 'firstIndex');
  });

  it('takes a style on set jobs only', () => {
    rejected(decodeClientMessage(binaryFrame({ ...submitReference, style: 'brand-icons' }, jpeg)), 'bad_message', 'style');
  });

  it('saves from a finished job or from an image, never both or neither', () => {
    expect(rejected(decodeClientMessage(binaryFrame({ ...saveStyleFromImage, jobId: 'job-1' }, png)), 'bad_message', 'jobId').message).toBe(
      'jobId must be left out when a reference image is sent',
    );
    const { jobId: _, ...neither } = saveStyleFromJob;
    expect(rejected(client(neither), 'bad_message', 'attachment').message).toMatch(/^attachment is required: send a reference image/);
    const { referencePrompt: __, ...undescribed } = saveStyleFromImage;
    rejected(decodeClientMessage(binaryFrame(undescribed, png)), 'bad_message', 'referencePrompt');
    rejected(client({ ...saveStyleFromJob, referencePrompt: 'a star' }), 'bad_message', 'referencePrompt');
    rejected(client({ ...saveStyleFromJob, options: { steps: 8 } }), 'invalid_option', 'options');
  });

  it("checks an image style's options as a reference image's", () => {
    expect(rejected(saveImage({ options: { scheduler: 'lcm' } }), 'invalid_option', 'options.scheduler').message).toMatch(/must be 'ddim'/);
    rejected(saveImage({ options: { steps: 10, inversionOffset: 10 } }), 'invalid_option', 'options.inversionOffset');
    // Output options and the seed belong to each job, not to the style.
    rejected(saveImage({ options: { format: 'svg' } }), 'invalid_option', 'options.format');
    rejected(saveImage({ options: { seed: 3 } }), 'invalid_option', 'options.seed');
  });

  it('refuses a style reference that is not an image', () => {
    const header = { ...saveStyleFromImage, attachment: { byteLength: png.length, mime: 'application/zip' } };
    rejected(decodeClientMessage(binaryFrame(header, png)), 'bad_message', 'attachment.mime');
  });

  it.each([
    [{ ...styleInfo, kind: 'text' }, 'styles.0.kind'],
    [{ ...styleInfo, model: { id: 'default', unetSha256: 'A'.repeat(64) } }, 'styles.0.model.unetSha256'],
    [{ ...styleInfo, model: { id: 'default' } }, 'styles.0.model.unetSha256'],
    [{ ...styleInfo, options: { ...styleInfo.options, steps: undefined } }, 'styles.0.options.steps'],
    [{ ...styleInfo, options: { ...styleInfo.options, seed: 4 } }, 'styles.0.options.seed'],
    [{ ...styleInfo, nextIndex: -1 }, 'styles.0.nextIndex'],
    [{ ...styleInfo, createdAt: 'yesterday' }, 'styles.0.createdAt'],
  ])('a client refuses a described style with %j wrong at %s', (style, field) => {
    rejected(daemon({ v, type: 'styles', styles: [style] }), 'bad_message', field);
  });
});

describe('request ids', () => {
  it('come back with a rejection so the daemon can echo them', () => {
    const decoded = withOptions({ steps: 500 });
    expect(decoded).toMatchObject({ ok: false, id: 's1', error: { code: 'invalid_option', field: 'options.steps' } });
  });

  it('come back with a version mismatch', () => {
    expect(client({ ...hello, v: 2 })).toMatchObject({ ok: false, id: 'h1' });
  });

  it('are left out when unusable', () => {
    expect(client({ ...hello, id: 5, v: 2 })).not.toHaveProperty('id');
    expect(decodeClientMessage('{')).not.toHaveProperty('id');
  });
});

it('encodes what it decodes for the exact bytes it was given', () => {
  const frame = encodeMessage(submitReference, jpeg);
  const decoded = decodeClientMessage(frame);
  expect(decoded.ok && Array.from(decoded.bytes ?? [])).toEqual(Array.from(jpeg));
});
