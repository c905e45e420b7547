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
import { inversionOptionsSchema, referenceOptionsSchema, setOptionsSchema } from '../options';
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

const submitSetSchema = z.strictObject({
  ...request,
  type: z.literal('submit'),
  kind: z.literal('set'),
  /** One image each, in order; the first is the set's reference. */
  prompts: promptsSchema,
  options: setOptionsSchema.optional(),
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
};

export type ClientMessageType = keyof typeof clientMessageSchemas;

export type ClientMessage = {
  [T in ClientMessageType]: z.infer<(typeof clientMessageSchemas)[T]>;
}[ClientMessageType];

export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;

export type SubmitMessage = ClientMessageOf<'submit'>;
