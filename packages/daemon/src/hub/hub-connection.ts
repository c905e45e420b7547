import { InputError } from '../errors';

/** The public hub; `HF_ENDPOINT` points elsewhere (a mirror, an enterprise hub, a test server). */
export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** Where the hub is and who we are to it. */
export interface HubConnection {
  endpoint: string;
  /** An access token (`HF_TOKEN`), for gated and private repositories. */
  token?: string;
  /** The fetch every request goes through (tests pass one that counts). */
  fetch?: typeof fetch;
}

/**
 * The hub's own environment variables, as its Python and JavaScript tools read them:
 * `HF_ENDPOINT`, and `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`).
 */
export function hubFromEnv(env: NodeJS.ProcessEnv = process.env): HubConnection {
  const raw = env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`HF_ENDPOINT "${raw}" is not a URL (expected e.g. https://huggingface.co)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError(`HF_ENDPOINT "${raw}": expected an http or https URL`);
  const token = (env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN)?.trim() || undefined;
  return { endpoint: raw.replace(/\/+$/, ''), token };
}

/**
 * Requests to the hub carry the token; requests anywhere else (the CDN a download redirects to)
 * never do: those URLs are signed, and a token must not leak to another host.
 */
export function authorized(hub: HubConnection, url: string, headers: Record<string, string> = {}): Record<string, string> {
  if (hub.token === undefined || new URL(url).origin !== new URL(hub.endpoint).origin) return headers;
  return { ...headers, Authorization: `Bearer ${hub.token}` };
}
