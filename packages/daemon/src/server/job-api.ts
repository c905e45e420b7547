import type { ClientMessageOf, DaemonMessageOf, ModelInfo, StyleInfo, SubmitMessage } from '@styleset/protocol';
import type { Client } from './job-service';

/**
 * What a connection asks of the jobs behind it: the daemon's own queue and store (JobService), or
 * a team's shared queue (team/'s front door). The protocol is the same either way.
 */
export interface JobApi {
  /** The model a job without `options.model` runs on (the welcome says it). */
  readonly defaultModelId: string;
  listModels(): Promise<ModelInfo[]>;
  getModel(id: string): Promise<ModelInfo>;
  /** Answers with `accepted` itself, so that it goes out before the job's first event. */
  submit(client: Client, message: SubmitMessage, bytes: Uint8Array | undefined): Promise<void>;
  /** Waits until a running job has stopped, so the answer is its final state. */
  cancel(client: Client, jobId: string, requestId: string): Promise<DaemonMessageOf<'status'>>;
  status(client: Client, jobId: string, requestId: string, follow: boolean): DaemonMessageOf<'status'> | Promise<DaemonMessageOf<'status'>>;
  queueStatus(client: Client, requestId: string): DaemonMessageOf<'queue'> | Promise<DaemonMessageOf<'queue'>>;
  /** The stored results from `fromIndex` on, then the status that ends the reply. */
  results(client: Client, jobId: string, fromIndex: number, requestId: string): Promise<void>;
  listStyles(): Promise<StyleInfo[]>;
  saveStyle(client: Client, message: ClientMessageOf<'save_style'>, bytes: Uint8Array | undefined): Promise<StyleInfo>;
  deleteStyle(name: string): Promise<StyleInfo[]>;
  disconnect(client: Client): void;
  /** Whether the client follows a job that has not ended. */
  follows(client: Client): boolean;
  followerCount(): number;
  close(): Promise<void>;
}
