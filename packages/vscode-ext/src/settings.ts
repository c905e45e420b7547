import { DEFAULT_DAEMON_URL, setOptionsSchema, type SetOptions } from '@styleset/protocol';

/** The extension's settings, as `package.json` declares them. */
export interface Settings {
  daemonUrl: string;
  /** Empty: the daemon's default model. */
  model: string;
  styleHint: string;
  /** Null: the model's own default. */
  steps: number | null;
  placeholderGlob: string;
  /** What "Start Daemon" runs in a terminal; empty: `npx styleset serve` (see daemon-launch). */
  daemonCommand: string;
}

/** Also the defaults `package.json` declares, which a test holds them to. */
export const DEFAULT_SETTINGS: Settings = {
  daemonUrl: DEFAULT_DAEMON_URL,
  model: '',
  styleHint: '',
  steps: null,
  placeholderGlob: '**/placeholders/**',
  daemonCommand: '',
};

/** The job options the settings ask for, checked with the protocol's own schema before any connection. */
export function optionsFrom(settings: Settings): { ok: true; options: SetOptions } | { ok: false; error: string; setting: string } {
  if (!/^wss?:\/\/[^/]/i.test(settings.daemonUrl)) {
    return { ok: false, error: `styleset.daemonUrl must be a ws:// or wss:// address, like ws://127.0.0.1:7391, not "${settings.daemonUrl}"`, setting: 'styleset.daemonUrl' };
  }
  const options: SetOptions = {};
  if (settings.model.trim() !== '') options.model = settings.model.trim();
  if (settings.steps !== null) options.steps = settings.steps;
  const parsed = setOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = `styleset.${String(issue.path[0])}`;
    return { ok: false, error: `${setting}: ${issue.message}`, setting };
  }
  return { ok: true, options: parsed.data };
}
