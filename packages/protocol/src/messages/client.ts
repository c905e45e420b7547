import * as z from 'zod';
import {
  IMAGE_MIME_TYPES,
  attachmentSchema,
  jobIdSchema,
  modelIdSchema,
  promptSchema,
  requestIdSchema,
} from '../fields';
import { LIMITS } from '../limits';
import { imageStyleOptionsSchema, inversionOptionsSchema, referenceOptionsSchema, setOptionsSchema } from '../options';
import { setIndexSchema, styleNameSchema } from '../styles';
import { PROTOCOL_VERSION } from '../version';

/** Every client message is a request: the daemon echoes its `id` in the replies. */
const request = { v: z.literal(PROTOCOL_VERSION), id: requestIdSchema };

/** Must be the first message on a connection; the daemon answers anything else with `unauthorized`. */
const helloSchema = z.strictObject({
  ...request,
  type: z.literal('hello'),
  /** The pairing token the user copied from the daemon. */
  token: z.string().min(1).max(256),
});

const listModelsSchema = z.strictObject({
  ...request,
  type: z.literal('list_models'),
});

const getModelSchema = z.strictObject({
  ...request,
  type: z.literal('get_model'),
  model: modelIdSchema,
});

const promptsSchema = z
  .array(z.string().min(1).max(LIMITS.maxPromptLength))
  .min(1)
  .max(LIMITS.maxPromptsPerJob);

const referenceImageSchema = attachmentSchema(IMAGE_MIME_TYPES, LIMITS.maxImageBytes);

const submitSetSchema = z
  .strictObject({
    ...request,
    type: z.literal('submit'),
    kind: z.literal('set'),
    /** One image each, in order; the first is the set's reference, unless `style` gives one. */
    prompts: promptsSchema,
    /**
     * A saved style (`list_styles`): its reference leads every batch and every prompt is an image
     * in its style. Its model and options apply; `options` may change the others (`model` only
     * to the style's own).
     */
    style: styleNameSchema.optional(),
    /**
     * With `style`: the index in the style's set of the first prompt, the next ones following.
     * An image's seed is the style's seed + its index, and its place in the style's batches
     * follows from the index, so image i is exactly what it was, or would have been, in the set
     * the style was saved from. Default: the style's `nextIndex`, after that set.
     */
    firstIndex: setIndexSchema.optional(),
    options: setOptionsSchema.optional(),
  })
  .check((ctx) => {
    if (ctx.value.firstIndex === undefined || ctx.value.style !== undefined) return;
    ctx.issues.push({ code: 'custom', path: ['firstIndex'], input: ctx.value.firstIndex, message: 'needs style: it places the prompts in a saved style\'s set' });
  });

const submitReferenceSchema = z
  .strictObject({
    ...request,
    type: z.literal('submit'),
    kind: z.literal('reference'),
    /** One image each, in order, styled after the reference image (which is not sent back). */
    prompts: promptsSchema,
    /** Describes the reference image; used to invert it and to generate its slot. */
    referencePrompt: promptSchema,
    /** The reference image travels in the frame... */
    attachment: referenceImageSchema.optional(),
    /** ...or an earlier `inversion` job's trajectory is reused (its model, steps and size apply). */
    inversionJobId: jobIdSchema.optional(),
    options: referenceOptionsSchema.optional(),
  })
  .check((ctx) => {
    const { attachment, inversionJobId } = ctx.value;
    if ((attachment === undefined) !== (inversionJobId === undefined)) return;
    ctx.issues.push({
      code: 'custom',
      path: [attachment === undefined ? 'attachment' : 'inversionJobId'],
      input: ctx.value,
      message:
        attachment === undefined
          ? 'is required: send the reference image in a binary frame, or give an inversionJobId'
          : 'must be left out when the reference image is sent',
    });
  });

const submitInversionSchema = z.strictObject({
  ...request,
  type: z.literal('submit'),
  kind: z.literal('inversion'),
  referencePrompt: promptSchema,
  attachment: referenceImageSchema,
  options: inversionOptionsSchema.optional(),
});

const submitSchema = z.discriminatedUnion('kind', [
  submitSetSchema,
  submitReferenceSchema,
  submitInversionSchema,
]);

/** Answered by `status`; the job itself ends with `job_error` code `cancelled` if it was live. */
const cancelSchema = z.strictObject({
  ...request,
  type: z.literal('cancel'),
  jobId: jobIdSchema,
});

/** Answered by `status`. */
const getStatusSchema = z.strictObject({
  ...request,
  type: z.literal('get_status'),
  jobId: jobIdSchema,
  /**
   * Also send this connection the job's remaining events, under this request's id (a client that
   * reconnects to a job). Absent means true; false answers the status alone.
   */
  follow: z.boolean().optional(),
});

/** Answered by `queue`: what the daemon is busy with. */
const getQueueSchema = z.strictObject({
  ...request,
  type: z.literal('get_queue'),
});

/**
 * Re-sends the job's stored results as `result` messages (PNGs and SVGs, in the order they were
 * announced), then a `status` that ends the reply.
 */
const getResultsSchema = z.strictObject({
  ...request,
  type: z.literal('get_results'),
  jobId: jobIdSchema,
  /** Skip the images a client already has: results of images with a lower index (every format). */
  fromIndex: z.int().min(0).max(LIMITS.maxPromptsPerJob).optional(),
});

/** Answered by `styles`: every style the daemon keeps (shared by everyone paired with it). */
const listStylesSchema = z.strictObject({
  ...request,
  type: z.literal('list_styles'),
});

/**
 * Saves a style under `name`, answered by `style`: from a finished `set` job of this token (its
 * first prompt and seed, its options and model, its batch size), or from a reference image in
 * the frame with the prompt that describes it and the options to use it with.
 */
const saveStyleSchema = z
  .strictObject({
    ...request,
    type: z.literal('save_style'),
    name: styleNameSchema,
    jobId: jobIdSchema.optional(),
    referencePrompt: promptSchema.optional(),
    attachment: referenceImageSchema.optional(),
    /** With an image: the style's options (the reference-image defaults for what is left out) and its model. */
    options: imageStyleOptionsSchema.optional(),
    /** Replace a style of that name; without it a taken name is `style_exists`. */
    replace: z.boolean().optional(),
  })
  .check((ctx) => {
    const { jobId, attachment, referencePrompt, options } = ctx.value;
    const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', path: [path], input: ctx.value, message });
    if (jobId !== undefined && attachment !== undefined) issue('jobId', 'must be left out when a reference image is sent');
    else if (jobId === undefined && attachment === undefined) issue('attachment', 'is required: send a reference image in a binary frame, or give the jobId of a finished set');
    else if (attachment !== undefined && referencePrompt === undefined) issue('referencePrompt', 'is required with a reference image: it describes the image');
    else if (jobId !== undefined && referencePrompt !== undefined) issue('referencePrompt', "must be left out with jobId: the set's first prompt is the reference");
    else if (jobId !== undefined && options !== undefined) issue('options', 'must be left out with jobId: the style takes the options the set ran with');
  });

/** Answered by `styles`, the styles that are left. */
const deleteStyleSchema = z.strictObject({
  ...request,
  type: z.literal('delete_style'),
  name: styleNameSchema,
});

/** One schema per `type`, so a decoder validates against exactly the schema the type names. */
export const clientMessageSchemas = {
  hello: helloSchema,
  list_models: listModelsSchema,
  get_model: getModelSchema,
  submit: submitSchema,
  cancel: cancelSchema,
  get_status: getStatusSchema,
  get_queue: getQueueSchema,
  get_results: getResultsSchema,
  list_styles: listStylesSchema,
  save_style: saveStyleSchema,
  delete_style: deleteStyleSchema,
};

export type ClientMessageType = keyof typeof clientMessageSchemas;

export type ClientMessage = {
  [T in ClientMessageType]: z.infer<(typeof clientMessageSchemas)[T]>;
}[ClientMessageType];

export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;

export type SubmitMessage = ClientMessageOf<'submit'>;
