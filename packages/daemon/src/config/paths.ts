import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** What the folder choice depends on; a parameter so every platform's rule can be tested anywhere. */
export interface Platform {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
}

export interface Dirs {
  /** Job records and result images: large and machine-local, so never in a roaming profile. */
  dataDir: string;
  /** The pairing token and config.json: small, per user, owner-only. */
  configDir: string;
}

const current = (): Platform => ({ platform: process.platform, env: process.env, home: homedir() });

/**
 * Each platform's convention: XDG base directories on Linux and other Unixes, Application Support
 * and Preferences on macOS, Local and Roaming AppData on Windows. A flag wins over the
 * STYLESET_DATA_DIR / STYLESET_CONFIG_DIR variables, which win over the convention.
 */
export function resolveDirs(flags: Partial<Dirs> = {}, system: Platform = current()): Dirs {
  const { platform, env, home } = system;
  const path = platform === 'win32' ? win32 : posix;
  const chosen = (flag: string | undefined, variable: string | undefined, fallback: () => string) =>
    path.resolve(flag ?? (variable || fallback()));
  if (platform === 'win32') {
    return {
      dataDir: chosen(flags.dataDir, env.STYLESET_DATA_DIR, () =>
        path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'Styleset', 'Data'),
      ),
      configDir: chosen(flags.configDir, env.STYLESET_CONFIG_DIR, () =>
        path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Styleset', 'Config'),
      ),
    };
  }
  if (platform === 'darwin') {
    const library = path.join(home, 'Library');
    return {
      dataDir: chosen(flags.dataDir, env.STYLESET_DATA_DIR, () => path.join(library, 'Application Support', 'Styleset')),
      configDir: chosen(flags.configDir, env.STYLESET_CONFIG_DIR, () => path.join(library, 'Preferences', 'Styleset')),
    };
  }
  // The XDG spec says a relative value is invalid and must be ignored.
  const xdg = (value: string | undefined, fallback: string) =>
    value && path.isAbsolute(value) ? value : path.join(home, fallback);
  return {
    dataDir: chosen(flags.dataDir, env.STYLESET_DATA_DIR, () =>
      path.join(xdg(env.XDG_DATA_HOME, '.local/share'), 'styleset'),
    ),
    configDir: chosen(flags.configDir, env.STYLESET_CONFIG_DIR, () =>
      path.join(xdg(env.XDG_CONFIG_HOME, '.config'), 'styleset'),
    ),
  };
}
