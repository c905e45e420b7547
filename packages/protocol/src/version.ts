/**
 * The protocol version. Every message carries it as `v`; a peer on another version is answered
 * with `version_mismatch` instead of a confusing schema error. `v` and `type` are the only fields
 * whose place and meaning no future version may change, so that check always works.
 */
export const PROTOCOL_VERSION = 1;
