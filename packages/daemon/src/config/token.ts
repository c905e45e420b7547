import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StylesetError } from '../errors';

const TOKEN_FILE = 'token';

export function tokenPath(configDir: string): string {
  return join(configDir, TOKEN_FILE);
}

/**
 * The pairing token every client must send first. Created on first use with 256 random bits,
 * readable by its owner only: anyone who can read it can drive the daemon.
 */
export async function loadOrCreateToken(configDir: string): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const file = tokenPath(configDir);
  const token = randomBytes(32).toString('base64url');
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(draft, `${token}\n`, { mode: 0o600 });
  try {
    // link() fails if the token exists, so two daemons started at once agree on one token, and
    // nobody ever reads a half-written file.
    await link(draft, file);
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return await readToken(configDir);
  } finally {
    await unlink(draft);
  }
}

/** The existing token; an error that says how to make one when there is none. */
export async function readToken(configDir: string): Promise<string> {
  const file = tokenPath(configDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new StylesetError('no_token', `no pairing token in ${file}: run \`styleset pair\` or \`styleset serve\` to create one`);
  }
  await restrictToOwner(file);
  const token = text.trim();
  if (token === '') {
    throw new StylesetError('no_token', `${file} is empty: delete it and run \`styleset pair\` to create a new token`);
  }
  return token;
}

/** A token file copied around or restored from a backup may have lost its owner-only mode. */
async function restrictToOwner(file: string): Promise<void> {
  // Windows has no POSIX modes; the per-user AppData folder's ACL keeps it private there.
  if (process.platform === 'win32') return;
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
}

/** What job records keep instead of the token: enough to check ownership, useless to a reader. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Constant-time: comparing hashes hides both the content and the length of the real token. */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
