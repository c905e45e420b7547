// The plugin's UI iframe: copies the form into a run and the run's view state into the DOM.
import { DEFAULT_DAEMON_URL } from '@styleset/protocol';
import type { MainToUi, UiToMain } from '../messages';
import { startRun, type RunHandle, type ViewState } from '../run';
import type { SelectionInfo } from '../selection';
import { openBrowserSocket } from './browser-socket';

/** The daemon's documented address; the manifest allows exactly this origin. */
const DAEMON_URL = DEFAULT_DAEMON_URL;

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = element<HTMLFormElement>('form');
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

function toMain(message: UiToMain): void {
  parent.postMessage({ pluginMessage: message }, '*');
}

function showSelection(): void {
  const { frame } = selection;
  selectionText.textContent = frame === null ? selection.hint : `Into “${frame.name}” · ${frame.width} × ${frame.height}`;
  generate.disabled = busy || frame === null;
}

function render(view: ViewState): void {
  busy = view.busy;
  if (!busy) run = undefined;
  cancel.hidden = !busy;
  progress.hidden = view.fraction === undefined;
  progress.value = view.fraction ?? 0;
  showPreview(view.preview);
  status.textContent = view.status;
  note.textContent = view.note ?? '';
  error.textContent = view.error?.message ?? '';
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
  preview.src = png === undefined ? '' : URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (busy) return;
  const values = { names: fields.names.value, styleHint: fields.styleHint.value, token: fields.token.value };
  run = startRun(values, selection, { url: DAEMON_URL, openSocket: openBrowserSocket, toMain, render });
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
    case 'target-lost':
      run?.stop(message.message);
      return;
  }
});

toMain({ type: 'ready' });
