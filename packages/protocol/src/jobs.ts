import * as z from 'zod';

export const JOB_KINDS = [
  /** A style-aligned set from prompts; the first prompt is the reference. */
  'set',
  /** A set in the style of a reference image, brought in by DDIM inversion. */
  'reference',
  /** Only the inversion of a reference image, kept by the daemon for later `reference` jobs. */
  'inversion',
] as const;

export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = ['queued', 'running', 'done', 'error', 'cancelled', 'interrupted'] as const;

export type JobState = (typeof JOB_STATES)[number];

export const PHASES = ['loading', 'encoding', 'inverting', 'denoising', 'decoding'] as const;

export type Phase = (typeof PHASES)[number];

/** Samplers; a model's own (in its `defaults`) is the one it was trained or distilled for. */
export const SCHEDULERS = ['ddim', 'euler_ancestral', 'lcm'] as const;

export type Scheduler = (typeof SCHEDULERS)[number];

export const jobKindSchema = z.enum(JOB_KINDS);
export const jobStateSchema = z.enum(JOB_STATES);
export const phaseSchema = z.enum(PHASES);
export const schedulerSchema = z.enum(SCHEDULERS);
