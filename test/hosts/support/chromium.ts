import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's package; playwright-core never downloads a browser of its own here. */
const CANDIDATES = [process.env.STYLESET_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

/** The Chromium the host tests drive; a missing one fails the run with how to install it. */
export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(
      `no Chromium found (looked at ${CANDIDATES.join(', ')}): install Debian's with \`sudo apt-get install -y chromium\`, ` +
        'or point STYLESET_CHROMIUM at a Chromium binary',
    );
  }
  return found;
}

/** Headless, sandboxed by Chromium's own rules except where root (CI containers) forbids it. */
export async function launchChromium(): Promise<Browser> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: root ? ['--no-sandbox'] : [],
  });
}
