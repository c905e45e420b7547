import { DEFAULT_DAEMON_URL } from '@styleset/protocol';

/**
 * Where the daemon is and the pairing token for it, kept in Figma's client storage (per user, per
 * machine; never in the document). Each address keeps its own token: a designer who switches
 * between the local daemon and a team's box does not paste tokens back and forth.
 */
export interface Settings {
  url: string;
  /** Pairing tokens by daemon address. */
  tokens: Record<string, string>;
}

export const DEFAULT_SETTINGS: Settings = { url: DEFAULT_DAEMON_URL, tokens: {} };

/** Stored settings as read back, whatever was stored; a token of the first version counts for the local daemon. */
export function readSettings(stored: unknown, legacyToken: unknown): Settings {
  const settings: Settings = { url: DEFAULT_SETTINGS.url, tokens: {} };
  if (typeof legacyToken === 'string' && legacyToken !== '') settings.tokens[DEFAULT_DAEMON_URL] = legacyToken;
  if (typeof stored !== 'object' || stored === null) return settings;
  const { url, tokens } = stored as Record<string, unknown>;
  if (typeof url === 'string' && checkDaemonUrl(url).ok) settings.url = url;
  if (typeof tokens === 'object' && tokens !== null) {
    for (const [key, token] of Object.entries(tokens)) if (typeof token === 'string') settings.tokens[key] = token;
  }
  return settings;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export type UrlCheck = { ok: true; url: string } | { ok: false; error: string };

/**
 * A daemon address as typed: `ws://` on this machine, `wss://` (TLS) anywhere else, since the
 * pairing token travels in the first message. Returned without a trailing slash, as typed.
 */
export function checkDaemonUrl(text: string): UrlCheck {
  const typed = text.trim();
  let url: URL;
  try {
    url = new URL(typed);
  } catch {
    return { ok: false, error: `“${typed}” is not an address: the daemon’s looks like ${DEFAULT_DAEMON_URL}, or wss://styleset.example.com for a team’s.` };
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    return { ok: false, error: `The daemon speaks WebSocket: its address starts with ws:// (this computer) or wss:// (a team’s), not ${url.protocol}//.` };
  }
  if (url.protocol === 'ws:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return {
      ok: false,
      error: `ws:// would send the pairing token unencrypted to ${url.hostname}: a daemon on another machine needs wss:// (behind a TLS proxy).`,
    };
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return { ok: false, error: 'The daemon’s address has no user name, query or fragment: the pairing token goes in its own field.' };
  }
  const normalized = url.pathname === '/' ? `${url.protocol}//${url.host}` : url.href;
  return { ok: true, url: normalized };
}
