import { InputError } from '../errors';

/** How to reach the team's Redis, as ioredis and BullMQ take it; `shown` is the only form ever printed. */
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** `rediss://`: TLS, with the server's certificate checked against the host name. */
  tls?: { servername: string };
  /** The URL with any user name and password replaced by `***`: safe for logs, errors and `--json`. */
  shown: string;
}

/**
 * Reads `--queue redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS). The password
 * never appears in what this returns for display, nor in its errors: a URL that does not parse is
 * refused without being repeated.
 */
export function parseQueueUrl(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError('--queue must be a URL like redis://HOST:PORT or rediss://HOST:PORT (it did not parse; not repeated here, as it may hold a password)');
  }
  const secret = url.username !== '' || url.password !== '';
  const shown = `${url.protocol}//${secret ? '***@' : ''}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new InputError(`--queue must start with redis:// or rediss:// (TLS), not ${url.protocol}//`);
  }
  if (url.hostname === '') throw new InputError(`--queue ${shown} names no host`);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new InputError(`--queue ${shown}: the path must be a database number (/0, /1, ...), not /${dbText}`);
  if (url.search !== '' || url.hash !== '') throw new InputError(`--queue ${shown}: query strings and fragments are not supported`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: url.port === '' ? 6379 : Number(url.port),
    db,
    ...(url.username !== '' && { username: decodeURIComponent(url.username) }),
    ...(url.password !== '' && { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' && { tls: { servername: host } }),
    shown,
  };
}
