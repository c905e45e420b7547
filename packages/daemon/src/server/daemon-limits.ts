import { LIMITS } from '@styleset/protocol';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * What the daemon allows each client and all of them together, besides the protocol's own
 * `LIMITS` (frame, image and option sizes, which both ends enforce). The README's daemon section
 * lists each one and what happens past it; the first three are `config.json` keys.
 */
export const DAEMON_LIMITS = {
  /**
   * Connections that have paired. When a new one pairs at the limit, the one idle the longest
   * (no request in progress, no job followed, nothing unread) is closed to make room; when none is
   * idle, the newcomer is refused with `too_many_connections`.
   */
  maxConnections: 32,
  /** Queued and running jobs of one pairing token, whichever connection submitted them. */
  maxJobsPerClient: 8,
  /** Queued and running jobs in all. */
  maxJobs: 64,
  /**
   * Connections that have not paired yet. When one more arrives at the limit, the oldest of them
   * is closed: a real client pairs within one round trip, so the oldest is the least likely to be
   * one, and a flood of sockets that never pair cannot keep a real client out.
   */
  maxUnpairedConnections: 256,
  /** An unpaired connection is closed after this long without a valid `hello`. */
  helloTimeoutMs: 5_000,
  /**
   * What a connection may send before it has paired: one `hello`, which is under 2 KiB (a token of
   * at most 256 characters and an id of at most 64, even with every character escaped).
   */
  maxUnpairedBytes: 8 * KIB,
  /** Ping period; a client that has not answered a ping by the next one is dropped. */
  heartbeatMs: 30_000,
  /**
   * Bytes written to a connection that its client has not read yet. Replies to requests wait for
   * room (the connection's requests are not served meanwhile); a job event that does not fit
   * closes the connection (its job goes on, and its results stay stored). At least one frame of
   * the largest size always fits.
   */
  maxBufferedBytes: 2 * LIMITS.maxBinaryFrameBytes,
  /** A connection's requests are served only while fewer unread bytes than this wait for it. */
  serveBelowBytes: 1 * MIB,
  /**
   * Requests read but not yet answered. Past it, or past maxBufferedBytes of them, the daemon
   * stops reading from the connection until it has caught up (TCP then holds the client back);
   * what it had already read (one socket read, at most 64 KiB) is still queued.
   */
  maxQueuedRequests: 16,
  /** How long a closing connection gets to answer the close before its socket is destroyed. */
  closeTimeoutMs: 10_000,
} as const;

export type DaemonLimits = { -readonly [K in keyof typeof DAEMON_LIMITS]: number };

/** WebSocket close codes the daemon uses (RFC 6455 §7.4.1); the reason always names the limit. */
export const CLOSE_CODES = {
  /** The daemon is stopping. */
  goingAway: 1001,
  /** No valid `hello` in time, a wrong token, or a client too slow to read what it asked for. */
  policyViolation: 1008,
  /** A frame over `LIMITS.maxBinaryFrameBytes`, or more than maxUnpairedBytes before pairing. */
  messageTooBig: 1009,
  /** Made room for a newer connection, or no room: try again. */
  tryAgainLater: 1013,
} as const;
