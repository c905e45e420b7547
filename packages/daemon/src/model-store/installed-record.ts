import * as z from 'zod';

/** Each installed model's folder holds this file; written last, so a folder without it is not a model. */
export const RECORD_FILE = 'styleset-model.json';

const sha1 = /^[0-9a-f]{40}$/;
const sha256 = /^[0-9a-f]{64}$/;

const fileSchema = z.strictObject({
  /** Relative to the model folder, with `/`. */
  path: z.string().min(1),
  size: z.int().min(0),
  /** LFS files: the sha256 of the content, checked while downloading. */
  sha256: z.string().regex(sha256).optional(),
  /** Other files: the git blob id, checked the same way. */
  gitOid: z.string().regex(sha1).optional(),
});

export const installedRecordSchema = z.strictObject({
  formatVersion: z.literal(1),
  source: z.strictObject({
    /** The hub it came from (HF_ENDPOINT, or the public hub). */
    endpoint: z.string().min(1),
    repo: z.string().min(1),
    /** What the user asked for: a branch, tag or commit. */
    revision: z.string().min(1),
    /** What that resolved to: the files are exactly this commit's. */
    commit: z.string().regex(sha1),
    /** The folder of the repository the model was taken from, when not its root. */
    subfolder: z.string().min(1).optional(),
  }),
  family: z.enum(['sd1', 'sd2', 'sdxl']),
  pipelineClass: z.string().min(1),
  bytes: z.int().min(0),
  files: z.array(fileSchema),
  installedAt: z.iso.datetime(),
});

export type InstalledRecord = z.infer<typeof installedRecordSchema>;
export type InstalledFile = InstalledRecord['files'][number];
