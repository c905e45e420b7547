import { DEFAULT_DAEMON_URL, LIMITS, setOptionsSchema, type SetOptions } from '@styleset/protocol';

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
  /** Workspace-relative PNG or JPEG whose style every set takes; empty: each set's first image. */
  styleImage: string;
  /** A style the daemon keeps (`list_styles`), by name, for sets when there is no style image; empty: none. */
  savedStyle: string;
  /** Null: the model's native size, for images whose references give no size. */
  width: number | null;
  height: number | null;
}

/** Also the defaults `package.json` declares, which a test holds them to. */
export const DEFAULT_SETTINGS: Settings = {
  daemonUrl: DEFAULT_DAEMON_URL,
  model: '',
  styleHint: '',
  steps: null,
  placeholderGlob: '**/placeholders/**',
  daemonCommand: '',
  styleImage: '',
  savedStyle: '',
  width: null,
  height: null,
};

/** The job options the settings ask for, checked with the protocol's own schema before any connection. */
export function optionsFrom(settings: Settings): { ok: true; options: SetOptions } | { ok: false; error: string; setting: string } {
  if (!/^wss?:\/\/[^/]/i.test(settings.daemonUrl)) {
    return { ok: false, error: `styleset.daemonUrl must be a ws:// or wss:// address, like ws://127.0.0.1:7391, not "${settings.daemonUrl}"`, setting: 'styleset.daemonUrl' };
  }
  const options: SetOptions = {};
  if (settings.model.trim() !== '') options.model = settings.model.trim();
  if (settings.steps !== null) options.steps = settings.steps;
  // Checked here for the setting's sake; each job sends the size of its own images.
  for (const side of ['width', 'height'] as const) {
    const value = settings[side];
    if (value !== null && (!Number.isInteger(value) || value < LIMITS.size.min || value > LIMITS.size.max)) {
      return { ok: false, error: `styleset.${side}: must be a whole number of pixels from ${LIMITS.size.min} to ${LIMITS.size.max}, not ${value}`, setting: `styleset.${side}` };
    }
  }
  const parsed = setOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = `styleset.${String(issue.path[0])}`;
    return { ok: false, error: `${setting}: ${issue.message}`, setting };
  }
  return { ok: true, options: parsed.data };
}
