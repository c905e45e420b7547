import type { Phase } from '@styleset/protocol';
import type { MainToUi, UiToMain } from './messages';
import { explain, type Explanation } from './problems';
import { prepareSet, type SetItem } from './prompts';
import type { SelectionInfo } from './selection';
import { GenerationSession, type OpenSocket, type SessionState } from './session';
import { code, plainText, words } from './text';

export interface RunForm {
  names: string;
  styleHint: string;
  token: string;
}

/** Everything the panel shows about a run; the UI entry only copies it into the DOM. */
export interface ViewState {
  busy: boolean;
  status: string;
  /** 0 to 1 while a job runs. */
  fraction?: number;
  /** The latest preview of the images in progress (a PNG strip), while a job runs. */
  preview?: Uint8Array;
  /** Worth knowing, not wrong: names typed twice were dropped. */
  note?: string;
  error?: Explanation;
}

export interface RunDeps {
  url: string;
  openSocket: OpenSocket;
  toMain(message: UiToMain): void;
  render(view: ViewState): void;
}

export interface RunHandle {
  /**
   * Cancels the job; with a reason, the run ends as that error instead of a plain cancellation.
   * Either way the main thread's `summary` then counts what was placed.
   */
  stop(reason?: string): void;
}

const STATE_TEXT: Record<SessionState, (count: number, position?: number) => string> = {
  connecting: () => 'Connecting to the daemon…',
  pairing: () => 'Pairing…',
  submitting: (count) => `Submitting ${count} prompt${count === 1 ? '' : 's'}…`,
  queued: (_, position = 0) => `Queued behind ${position} job${position === 1 ? '' : 's'}…`,
  running: () => 'Generating…',
  cancelling: () => 'Cancelling…',
};

const PHASE_TEXT: Record<Phase, (step: number, total: number) => string> = {
  loading: () => 'Loading the model',
  encoding: () => 'Reading the prompts',
  inverting: () => 'Inverting the reference',
  denoising: (step, total) => `Denoising, step ${step} of ${total}`,
  decoding: (step, total) => `Decoding image ${step} of ${total}`,
};

/** The token and the set to submit, or what to fix first. */
export function checkForm(
  form: RunForm,
  selection: SelectionInfo,
): { token: string; items: SetItem[]; duplicates: string[] } | { error: Explanation } {
  if (selection.frame === null) return { error: { message: [selection.hint] } };
  const token = form.token.trim();
  if (token === '') {
    return { error: { message: words`Paste the pairing token: run ${code('npx styleset pair')} in a terminal and copy the token it prints.`, field: 'token' } };
  }
  const set = prepareSet(form.names, form.styleHint);
  if (!set.ok) return { error: { message: [set.error], field: 'names' } };
  return { token, items: set.items, duplicates: set.duplicates };
}

/**
 * Runs one set: each image goes to the main thread as it arrives, named after the name it was
 * made from, and the run ends by telling the main thread how it went. Returns undefined, with the
 * reason rendered, when the form is not ready.
 */
export function startRun(form: RunForm, selection: SelectionInfo, deps: RunDeps): RunHandle | undefined {
  const checked = checkForm(form, selection);
  if ('error' in checked) {
    deps.render({ busy: false, status: '', error: checked.error });
    return undefined;
  }
  const { token, items, duplicates } = checked;
  const view: ViewState = {
    busy: true,
    status: '',
    note: duplicates.length > 0 ? `Repeated names made once: ${duplicates.join(', ')}` : undefined,
  };
  const update = (change: Partial<ViewState>) => deps.render({ ...Object.assign(view, change) });
  let received = 0;
  let stopReason: string | undefined;

  deps.toMain({ type: 'save-token', token });
  deps.toMain({ type: 'begin', count: items.length });
  const prompts = items.map((item) => item.prompt);
  const session = new GenerationSession({ url: deps.url, token, prompts }, deps.openSocket, (event) => {
    switch (event.type) {
      case 'state':
        update({ status: STATE_TEXT[event.state](items.length, event.position) });
        return;
      case 'progress':
        update({ status: PHASE_TEXT[event.phase](event.step, event.total), fraction: event.fraction, ...(event.preview ? { preview: event.preview } : {}) });
        return;
      case 'result': {
        const { index, png, width, height } = event.result;
        received++;
        deps.toMain({ type: 'image', index, name: items[index].name, png, width, height });
        return;
      }
      case 'finished': {
        const { outcome } = event;
        if (outcome.status === 'done') {
          deps.toMain({ type: 'end', end: { status: 'done' } });
          // Until the main thread's summary says how many of them it placed.
          update({ busy: false, fraction: 1, preview: undefined, status: `Made ${received} of ${items.length} images.` });
        } else if (outcome.status === 'cancelled' && stopReason === undefined) {
          deps.toMain({ type: 'end', end: { status: 'cancelled' } });
          update({ busy: false, fraction: undefined, preview: undefined, status: `Cancelled after ${received} of ${items.length} images.` });
        } else {
          const error = outcome.status === 'failed' ? explain(outcome.problem, deps.url) : { message: [stopReason!] };
          deps.toMain({ type: 'end', end: { status: 'failed', message: plainText(error.message) } });
          update({ busy: false, fraction: undefined, preview: undefined, status: '', error });
        }
        return;
      }
    }
  });
  session.start();
  return {
    stop: (reason) => {
      stopReason ??= reason;
      session.cancel();
    },
  };
}

/**
 * The panel once the main thread has counted what it placed: its count replaces the run's own last
 * status, and a shortfall the panel has not explained yet (the frame was deleted) becomes its error.
 */
export function withSummary(view: ViewState, summary: Extract<MainToUi, { type: 'summary' }>): ViewState {
  if (summary.error && view.error === undefined) return { ...view, status: '', error: { message: [summary.status] } };
  return { ...view, status: summary.status };
}
