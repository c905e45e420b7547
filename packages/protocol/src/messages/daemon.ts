import * as z from 'zod';
import { protocolErrorSchema, protocolErrorShape } from '../errors';
import {
  IMAGE_MIME_TYPES,
  attachmentSchema,
  dimensionSchema,
  jobIdSchema,
  modelIdSchema,
  promptSchema,
  requestIdSchema,
  seedSchema,
} from '../fields';
import { jobKindSchema, jobStateSchema, phaseSchema } from '../jobs';
import { LIMITS, limitsSchema } from '../limits';
import { modelInfoSchema } from '../models';
import { STYLE_LIMITS, styleInfoSchema } from '../styles';
import { RESULT_MIME, VECTOR_LIMITS, resultFormatSchema, vectorSummarySchema, warningSchema } from '../vector';
import { PROTOCOL_VERSION } from '../version';

/**
 * `id` echoes the client request that caused the message: a reply, or a job event sent because of
 * a `submit` or `get_results`. It is absent where no request is known (e.g. an unparseable frame).
 */
const reply = { v: z.literal(PROTOCOL_VERSION), id: requestIdSchema.optional() };

const imageCount = z.int().min(0).max(LIMITS.maxPromptsPerJob);
const milliseconds = z.number().min(0);

/** The protocol version is the message's own `v`. */
const welcomeSchema = z.strictObject({
  ...reply,
  type: z.literal('welcome'),
  daemonVersion: z.string().min(1).max(64),
  limits: limitsSchema,
  defaultModel: modelIdSchema,
});

const modelsSchema = z.strictObject({
  ...reply,
  type: z.literal('models'),
  models: z.array(modelInfoSchema).max(1000),
});

const modelSchema = z.strictObject({
  ...reply,
  type: z.literal('model'),
  model: modelInfoSchema,
});

const acceptedSchema = z.strictObject({
  ...reply,
  type: z.literal('accepted'),
  jobId: jobIdSchema,
  /** Jobs ahead of this one; 0 means it starts now. */
  position: z.int().min(0),
  /** Images it will produce (0 for an inversion). */
  count: imageCount,
});

const progressSchema = z
  .strictObject({
    ...reply,
    type: z.literal('progress'),
    jobId: jobIdSchema,
    phase: phaseSchema,
    /** Steps finished of the phase's `total`, over the whole job (all chunks). */
    step: z.int().min(0),
    total: z.int().min(1),
    etaMs: milliseconds.optional(),
    /** A small preview of the images in progress. */
    attachment: attachmentSchema(IMAGE_MIME_TYPES, LIMITS.maxPreviewBytes).optional(),
  })
  .check((ctx) => {
    if (ctx.value.step <= ctx.value.total) return;
    ctx.issues.push({
      code: 'custom',
      path: ['step'],
      input: ctx.value.step,
      message: `must be at most total (${ctx.value.total})`,
    });
  });

const resultSchema = z
  .strictObject({
    ...reply,
    type: z.literal('result'),
    jobId: jobIdSchema,
    /** Position of its prompt in the submitted `prompts`. */
    index: z.int().min(0).max(LIMITS.maxPromptsPerJob - 1),
    prompt: promptSchema,
    /** The seed that reproduces this image. */
    seed: seedSchema,
    width: dimensionSchema,
    height: dimensionSchema,
    /**
     * Present whenever the job set any vector option (`format`, `background`, `palette`) to
     * other than its default; absent means `png`. A `both` job sends each image twice, under
     * the same `index`: its PNG as it is decoded, its SVG after the last image.
     */
    format: resultFormatSchema.optional(),
    /** For people: why this image is not quite what was asked (its background kept, its SVG missing). */
    warning: warningSchema.optional(),
    /** `image/png`, or `image/svg+xml` (at most VECTOR_LIMITS.maxSvgBytes). */
    attachment: attachmentSchema([RESULT_MIME.png, RESULT_MIME.svg], LIMITS.maxImageBytes),
  })
  .check((ctx) => {
    const { attachment, format = 'png' } = ctx.value;
    if (attachment.mime !== RESULT_MIME[format]) {
      ctx.issues.push({
        code: 'custom',
        path: ['attachment', 'mime'],
        input: attachment.mime,
        message: `must be ${JSON.stringify(RESULT_MIME[format])} for a ${format} result`,
      });
    } else if (format === 'svg' && attachment.byteLength > VECTOR_LIMITS.maxSvgBytes) {
      ctx.issues.push({
        code: 'too_big',
        origin: 'number',
        maximum: VECTOR_LIMITS.maxSvgBytes,
        inclusive: true,
        path: ['attachment', 'byteLength'],
        input: attachment.byteLength,
        message: `must be at most ${VECTOR_LIMITS.maxSvgBytes} for an SVG (maxSvgBytes)`,
      });
    }
  });

const doneSchema = z.strictObject({
  ...reply,
  type: z.literal('done'),
  jobId: jobIdSchema,
  count: imageCount,
  timings: z.strictObject({
    /** From `accepted` to the start of the first phase. */
    queuedMs: milliseconds,
    /** From the start of the first phase to `done`. */
    runMs: milliseconds,
    /** Time per phase; phases the job skipped are absent. */
    phases: z.partialRecord(phaseSchema, milliseconds),
  }),
  /** The SVGs' palettes (and images without an SVG), when the job asked for SVG. */
  vector: vectorSummarySchema.optional(),
});

/** A job ended without finishing: failed, cancelled or interrupted. Its last event. */
const jobErrorSchema = z.strictObject({
  ...reply,
  type: z.literal('job_error'),
  jobId: jobIdSchema,
  ...protocolErrorShape,
});

/** Where a job stands: in `status`, and per job in `queue`. */
const jobStandingShape = {
  jobId: jobIdSchema,
  kind: jobKindSchema,
  state: jobStateSchema,
  /** Jobs ahead of it, while `queued`. */
  position: z.int().min(0).optional(),
  /** Images finished so far, of `count`. */
  completed: imageCount,
  count: imageCount,
};

const statusSchema = z.strictObject({
  ...reply,
  type: z.literal('status'),
  ...jobStandingShape,
  /** Why it ended, for `error`, `cancelled` and `interrupted`. */
  error: protocolErrorSchema.optional(),
  /** What `done` says of the SVGs, once they are made: for a client that comes back for them. */
  vector: vectorSummarySchema.optional(),
});

/**
 * The daemon's queue: whether a job runs and how many wait (everyone's), and this client's own
 * live jobs (those of its pairing token) with their positions. Other clients' jobs are not named.
 */
const queueSchema = z.strictObject({
  ...reply,
  type: z.literal('queue'),
  running: z.boolean(),
  waiting: z.int().min(0),
  jobs: z.array(z.strictObject(jobStandingShape)),
});

/** A failed request or a connection-level problem, not tied to a job. */
const errorSchema = z.strictObject({
  ...reply,
  type: z.literal('error'),
  ...protocolErrorShape,
});

/** Every saved style, by name: the answer to `list_styles` and `delete_style`. */
const stylesSchema = z.strictObject({
  ...reply,
  type: z.literal('styles'),
  styles: z.array(styleInfoSchema).max(STYLE_LIMITS.maxStyles),
});

/** The style `save_style` saved. */
const styleSchema = z.strictObject({
  ...reply,
  type: z.literal('style'),
  style: styleInfoSchema,
});

/** One schema per `type`, so a decoder validates against exactly the schema the type names. */
export const daemonMessageSchemas = {
  welcome: welcomeSchema,
  models: modelsSchema,
  model: modelSchema,
  accepted: acceptedSchema,
  progress: progressSchema,
  result: resultSchema,
  done: doneSchema,
  job_error: jobErrorSchema,
  status: statusSchema,
  queue: queueSchema,
  error: errorSchema,
  styles: stylesSchema,
  style: styleSchema,
};

export type DaemonMessageType = keyof typeof daemonMessageSchemas;

export type DaemonMessage = {
  [T in DaemonMessageType]: z.infer<(typeof daemonMessageSchemas)[T]>;
}[DaemonMessageType];

export type DaemonMessageOf<T extends DaemonMessageType> = Extract<DaemonMessage, { type: T }>;
