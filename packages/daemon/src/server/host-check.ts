/** Names a browser only sends when it really is talking to this machine's loopback. */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `name`, `name:port`, `[v6]` or `[v6]:port` -> the lower-cased name; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::\d{1,5})?$/i.exec(header?.trim() ?? '');
  return match?.[1].toLowerCase();
}

/**
 * DNS rebinding defence: a page on attacker.example whose name now resolves to 127.0.0.1 still
 * sends `Host: attacker.example`. Only loopback names and the ones the user configured pass;
 * Origin is never consulted (Figma's iframe and a hostile sandboxed iframe both send `null`).
 */
export function isAllowedHost(header: string | undefined, configured: readonly string[]): boolean {
  const name = hostName(header);
  if (name === undefined) return false;
  return LOOPBACK.includes(name) || configured.some((entry) => hostName(entry) === name);
}
