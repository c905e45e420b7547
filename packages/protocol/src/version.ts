/**
 * The protocol version. Every message carries it as `v`; a peer on another version is answered
 * with `version_mismatch` instead of a confusing schema error. `v` and `type` are the only fields
 * whose place and meaning no future version may change, so that check always works.
 */
export const PROTOCOL_VERSION = 1;

/** The daemon's documented port: clients try it when their user gave no address. */
export const DEFAULT_PORT = 7391;

/**
 * Where a client finds a daemon on the same machine by default (the daemon listens on loopback).
 * Written out, not built from DEFAULT_PORT, so that it stays one literal in the bundles and
 * manifests that must name it; a test holds the two together.
 */
export const DEFAULT_DAEMON_URL = 'ws://127.0.0.1:7391';
