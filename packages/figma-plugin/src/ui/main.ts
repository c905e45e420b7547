// The plugin's UI iframe: copies the form into a run and the run's view state into the DOM.
// Figma sandboxes this frame with `allow-scripts` only: without `allow-forms` a form's `submit`
// never fires, so the panel has no form and acts on the button and on Enter itself.
import { DEFAULT_DAEMON_URL } from '@styleset/protocol';
import type { MainToUi, UiToMain } from '../messages';
import { startRun, withSummary, type RunHandle, type ViewState } from '../run';
import type { SelectionInfo } from '../selection';
import type { Words } from '../text';
import { openBrowserSocket } from './browser-socket';

/** The daemon's documented address; the manifest allows exactly this origin. */
const DAEMON_URL = DEFAULT_DAEMON_URL;

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fields = {
  names: element<HTMLTextAreaElement>('names'),
  styleHint: element<HTMLInputElement>('styleHint'),
  token: element<HTMLInputElement>('token'),
};
const generate = element<HTMLButtonElement>('generate');
const cancel = element<HTMLButtonElement>('cancel');
const progress = element<HTMLProgressElement>('progress');
const preview = element<HTMLImageElement>('preview');
const selectionText = element('selection');
const status = element('status');
const note = element('note');
const error = element('error');

let selection: SelectionInfo = { frame: null, hint: 'Waiting for Figma…' };
let run: RunHandle | undefined;
let busy = false;
/** The panel as last rendered, which the main thread's summary of a run amends. */
let shown: ViewState = { busy: false, status: '' };

function toMain(message: UiToMain): void {
  parent.postMessage({ pluginMessage: message }, '*');
}

function showSelection(): void {
  const { frame } = selection;
  selectionText.textContent = frame === null ? selection.hint : `Into “${frame.name}” · ${frame.width} × ${frame.height}`;
  generate.disabled = busy || frame === null;
}

/** Commands as code elements, built as nodes: daemon text never becomes markup. */
function showWords(target: HTMLElement, sentence: Words): void {
  target.replaceChildren(
    ...sentence.map((span) => {
      if (typeof span === 'string') return document.createTextNode(span);
      const command = document.createElement('code');
      command.textContent = span.code;
      return command;
    }),
  );
}

function render(view: ViewState): void {
  shown = view;
  busy = view.busy;
  if (!busy) run = undefined;
  cancel.hidden = !busy;
  progress.hidden = view.fraction === undefined;
  progress.value = view.fraction ?? 0;
  showPreview(view.preview);
  status.textContent = view.status;
  note.textContent = view.note ?? '';
  showWords(error, view.error?.message ?? []);
  for (const [name, field] of Object.entries(fields)) field.classList.toggle('invalid', view.error?.field === name);
  if (view.error?.field !== undefined) fields[view.error.field].focus();
  showSelection();
}

let shownPreview: Uint8Array | undefined;

function showPreview(png: Uint8Array | undefined): void {
  if (png === shownPreview) return;
  shownPreview = png;
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.hidden = png === undefined;
  if (png === undefined) preview.removeAttribute('src');
  else preview.src = URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
}

function startGenerating(): void {
  if (busy) return;
  const values = { names: fields.names.value, styleHint: fields.styleHint.value, token: fields.token.value };
  run = startRun(values, selection, { url: DAEMON_URL, openSocket: openBrowserSocket, toMain, render });
}

/** Enter, unless an input method is composing a character with it. */
const isEnter = (event: KeyboardEvent) => event.key === 'Enter' && !event.isComposing;

generate.addEventListener('click', startGenerating);
for (const field of [fields.styleHint, fields.token]) {
  field.addEventListener('keydown', (event) => {
    if (!isEnter(event)) return;
    event.preventDefault();
    startGenerating();
  });
}
// Enter in the names starts a new line (names may be one a line); Ctrl or Cmd+Enter generates.
fields.names.addEventListener('keydown', (event) => {
  if (!isEnter(event) || !(event.ctrlKey || event.metaKey)) return;
  event.preventDefault();
  startGenerating();
});

cancel.addEventListener('click', () => run?.stop());

window.addEventListener('message', (event: MessageEvent<{ pluginMessage?: MainToUi }>) => {
  const message = event.data.pluginMessage;
  if (message === undefined) return;
  switch (message.type) {
    case 'init':
      if (fields.token.value === '') fields.token.value = message.token;
      selection = message.selection;
      showSelection();
      return;
    case 'selection':
      selection = message.selection;
      showSelection();
      return;
    case 'no-target':
      run?.stop(message.message);
      return;
    case 'target-deleted':
      // The job is cancelled on the daemon; the summary that follows its end says what happened.
      run?.stop();
      return;
    case 'summary':
      render(withSummary(shown, message));
      return;
  }
});

toMain({ type: 'ready' });
