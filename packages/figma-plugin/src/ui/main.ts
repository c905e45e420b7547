// The plugin's UI iframe: copies the form into a run and the run's view state into the DOM.
// Figma sandboxes this frame with `allow-scripts` only: without `allow-forms` a form's `submit`
// never fires, so the panel has no form and acts on the buttons and on Enter itself.
import { DaemonProblem } from '../daemon-client';
import { describeDestination, destinationFor } from '../destination';
import type { MainToUi, UiToMain } from '../messages';
import type { Field } from '../problems';
import { startRegenerate, startSetRun, withSummary, type RunDeps, type RunHandle, type ViewState } from '../run';
import { typeWords, type SelectionInfo } from '../selection';
import { DEFAULT_SETTINGS, checkDaemonUrl, readSettings, type Settings } from '../settings';
import { describeSavedStyle, loadSavedStyles } from '../saved-styles';
import type { SavedStyle, StyleSource } from '../style';
import type { Words } from '../text';
import { openBrowserSocket } from './browser-socket';
import { letterbox } from './letterbox';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fields: Record<Field | 'styleHint', HTMLInputElement | HTMLTextAreaElement> = {
  referencePrompt: element<HTMLInputElement>('referencePrompt'),
  names: element<HTMLTextAreaElement>('names'),
  styleHint: element<HTMLInputElement>('styleHint'),
  url: element<HTMLInputElement>('url'),
  token: element<HTMLInputElement>('token'),
};
const output = {
  svg: element<HTMLInputElement>('format-svg'),
  transparent: element<HTMLInputElement>('transparent'),
};
const ui = {
  styleThumb: element<HTMLImageElement>('style-thumb'),
  styleName: element('style-name'),
  styleHint: element('style-hint'),
  useStyle: element<HTMLButtonElement>('use-style'),
  clearStyle: element<HTMLButtonElement>('clear-style'),
  loadSaved: element<HTMLButtonElement>('load-saved'),
  savedStyle: element<HTMLSelectElement>('saved-style'),
  reference: element('reference'),
  destination: element('destination'),
  generate: element<HTMLButtonElement>('generate'),
  cancel: element<HTMLButtonElement>('cancel'),
  assetCard: element('asset-card'),
  assetName: element('asset-name'),
  assetHint: element('asset-hint'),
  regenerate: element<HTMLButtonElement>('regenerate'),
  daemon: element<HTMLDetailsElement>('daemon'),
  daemonUrl: element('daemon-url'),
  progress: element<HTMLProgressElement>('progress'),
  preview: element<HTMLImageElement>('preview'),
  status: element('status'),
  note: element('note'),
  error: element('error'),
};

let selection: SelectionInfo = { kind: 'none' };
let style: StyleSource | undefined;
/** The daemon's saved styles, as last listed. */
let savedStyles: SavedStyle[] = [];
let settings: Settings = DEFAULT_SETTINGS;
let run: RunHandle | undefined;
let busy = false;
/** The panel as last rendered, which the main thread's summary of a run amends. */
let shown: ViewState = { busy: false, status: '' };

function toMain(message: UiToMain): void {
  parent.postMessage({ pluginMessage: message }, '*');
}

/** Images as object URLs, replaced (and the old one released) only when the bytes change. */
function showImage(img: HTMLImageElement, png: Uint8Array | undefined): void {
  if ((img as { shownPng?: Uint8Array }).shownPng === png) return;
  (img as { shownPng?: Uint8Array }).shownPng = png;
  if (img.src) URL.revokeObjectURL(img.src);
  img.hidden = png === undefined;
  if (png === undefined) img.removeAttribute('src');
  else img.src = URL.createObjectURL(new Blob([png.slice()], { type: 'image/png' }));
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

/** The parts of the panel that follow the canvas: the style, where a set goes, the selected asset. */
function showCanvas(): void {
  const one = selection.kind === 'one' ? selection.node : undefined;
  const canvas = style?.kind === 'canvas' ? style : undefined;
  showImage(ui.styleThumb, canvas?.thumbnail);
  ui.clearStyle.hidden = style === undefined;
  // A saved style brings its own reference: only a layer needs describing.
  ui.reference.hidden = canvas === undefined;
  ui.styleName.textContent = style === undefined ? 'No style yet' : `“${style.name}”`;
  ui.savedStyle.value = style?.kind === 'saved' ? style.name : '';
  if (one !== undefined && one.id !== canvas?.nodeId) {
    ui.styleHint.textContent = `Selected: “${one.name}”, a ${typeWords(one.type)}`;
  } else if (style?.kind === 'saved') {
    ui.styleHint.textContent = describeSavedStyle(style);
  } else if (style !== undefined) {
    ui.styleHint.textContent = `${style.width} × ${style.height} layer`;
  } else {
    ui.styleHint.textContent = selection.kind === 'many' ? `Select one layer, not ${selection.count}.` : 'Select an icon, image, component or frame.';
  }
  ui.useStyle.disabled = busy || one === undefined || one.id === canvas?.nodeId;
  ui.loadSaved.disabled = busy;

  const destination = destinationFor(selection, style);
  ui.destination.textContent = describeDestination(destination);
  ui.generate.disabled = busy || destination.kind === 'none';

  const asset = selection.kind === 'one' ? selection.asset : undefined;
  ui.assetCard.hidden = asset === undefined;
  if (asset !== undefined) {
    ui.assetName.textContent = `“${asset.name}”`;
    ui.assetHint.textContent =
      asset.style !== null
        ? `Seed ${asset.seed}, in the style of “${asset.style.referenceName}”`
        : asset.savedStyle !== undefined
          ? `Seed ${asset.seed}, in the saved style “${asset.savedStyle}”`
          : 'From a set made from names alone';
    ui.regenerate.disabled = busy;
  }
  ui.daemonUrl.textContent = settings.url;
}

function render(view: ViewState): void {
  shown = view;
  busy = view.busy;
  if (!busy) run = undefined;
  ui.cancel.hidden = !busy;
  ui.progress.hidden = view.fraction === undefined;
  ui.progress.value = view.fraction ?? 0;
  showImage(ui.preview, view.preview);
  ui.status.textContent = view.status;
  ui.note.textContent = view.note ?? '';
  showWords(ui.error, view.error?.message ?? []);
  const field = view.error?.field;
  for (const [name, input] of Object.entries(fields)) input.classList.toggle('invalid', field === name);
  if (field === 'token' || field === 'url') ui.daemon.open = true;
  if (field !== undefined) fields[field].focus();
  showCanvas();
  // The error under the field it names stays in view, in a panel taller than the window.
  if (view.error !== undefined) ui.error.scrollIntoView({ block: 'nearest' });
}

function saveSettings(): void {
  toMain({ type: 'save-settings', settings });
}

/** The address as typed, once it is one the plugin may use; its own token comes with it. */
function applyUrl(): boolean {
  const checked = checkDaemonUrl(fields.url.value);
  if (!checked.ok) {
    render({ busy: false, status: '', error: { message: [checked.error], field: 'url' } });
    return false;
  }
  fields.url.value = checked.url;
  if (checked.url !== settings.url) {
    settings = { ...settings, url: checked.url };
    fields.token.value = settings.tokens[checked.url] ?? '';
    saveSettings();
    showCanvas();
  }
  return true;
}

function applyToken(): void {
  const token = fields.token.value.trim();
  if (token === (settings.tokens[settings.url] ?? '')) return;
  settings = { ...settings, tokens: { ...settings.tokens, [settings.url]: token } };
  saveSettings();
}

const pendingExports = new Map<number, { resolve: (png: Uint8Array) => void; reject: (error: DaemonProblem) => void }>();
let nextExportId = 1;

function exportReference(nodeId: string, width: number, height: number): Promise<Uint8Array> {
  const requestId = nextExportId++;
  const exported = new Promise<Uint8Array>((resolve, reject) => pendingExports.set(requestId, { resolve, reject }));
  toMain({ type: 'export-reference', requestId, nodeId, width, height });
  return exported.then((png) => letterbox(png, width, height));
}

function newSeed(avoid: number): number {
  const seed = new Uint32Array(1);
  do crypto.getRandomValues(seed);
  while (seed[0] === avoid);
  return seed[0];
}

/** A run under way has what it needs from the settings: they fold away, leaving room for its progress. */
function started(handle: RunHandle | undefined): RunHandle | undefined {
  if (handle !== undefined) ui.daemon.open = false;
  return handle;
}

function runDeps(): RunDeps {
  return { url: settings.url, token: settings.tokens[settings.url] ?? '', openSocket: openBrowserSocket, toMain, exportReference, render, newSeed };
}

function startGenerating(): void {
  if (busy || !applyUrl()) return;
  applyToken();
  const form = {
    names: fields.names.value,
    styleHint: fields.styleHint.value,
    referencePrompt: fields.referencePrompt.value,
    output: { format: output.svg.checked ? ('svg' as const) : ('png' as const), transparent: output.transparent.checked },
  };
  run = started(startSetRun(form, selection, style, runDeps()));
}

function startRegenerating(): void {
  if (busy || selection.kind !== 'one' || selection.asset === undefined || !applyUrl()) return;
  applyToken();
  run = started(startRegenerate(selection.node.id, selection.asset, runDeps()));
}

/** Enter, unless an input method is composing a character with it. */
const isEnter = (event: KeyboardEvent) => event.key === 'Enter' && !event.isComposing;
const onKeyDown = (field: HTMLElement, listener: (event: KeyboardEvent) => void) => field.addEventListener('keydown', listener);

ui.generate.addEventListener('click', startGenerating);
ui.regenerate.addEventListener('click', startRegenerating);
ui.cancel.addEventListener('click', () => run?.stop());
ui.useStyle.addEventListener('click', () => toMain({ type: 'use-as-style' }));
ui.clearStyle.addEventListener('click', () => {
  style = undefined;
  showCanvas();
});
ui.loadSaved.addEventListener('click', async () => {
  if (busy || !applyUrl()) return;
  applyToken();
  ui.loadSaved.disabled = true;
  const loaded = await loadSavedStyles(settings.url, settings.tokens[settings.url] ?? '', openBrowserSocket);
  ui.loadSaved.disabled = busy;
  if ('error' in loaded) {
    render({ busy: false, status: '', error: loaded.error });
    return;
  }
  savedStyles = loaded.styles;
  const option = (text: string, value: string) => Object.assign(document.createElement('option'), { text, value });
  const none = option(savedStyles.length === 0 ? 'The daemon keeps no styles yet' : 'Pick a saved style', '');
  ui.savedStyle.replaceChildren(none, ...savedStyles.map((saved) => option(saved.name, saved.name)));
  ui.savedStyle.hidden = false;
  render({ busy: false, status: savedStyles.length === 0 ? 'No saved styles: save one with styleset style save NAME --from DIR/set.json.' : `${savedStyles.length} saved style${savedStyles.length === 1 ? '' : 's'} on the daemon.` });
});
ui.savedStyle.addEventListener('change', () => {
  const picked = savedStyles.find((saved) => saved.name === ui.savedStyle.value);
  if (picked !== undefined || style?.kind === 'saved') style = picked;
  render({ busy: false, status: '' });
});
for (const field of [fields.styleHint, fields.referencePrompt, fields.token]) {
  onKeyDown(field, (event) => {
    if (!isEnter(event)) return;
    event.preventDefault();
    startGenerating();
  });
}
// Enter in the names starts a new line (names may be one a line); Ctrl or Cmd+Enter generates.
onKeyDown(fields.names, (event) => {
  if (!isEnter(event) || !(event.ctrlKey || event.metaKey)) return;
  event.preventDefault();
  startGenerating();
});
fields.url.addEventListener('change', applyUrl);
onKeyDown(fields.url, (event) => {
  if (!isEnter(event)) return;
  event.preventDefault();
  applyUrl();
});
fields.token.addEventListener('change', applyToken);

window.addEventListener('message', (event: MessageEvent<{ pluginMessage?: MainToUi }>) => {
  const message = event.data?.pluginMessage;
  if (message === undefined) return;
  switch (message.type) {
    case 'init':
      settings = readSettings(message.stored.settings, message.stored.legacyToken);
      fields.url.value = settings.url;
      if (fields.token.value === '') fields.token.value = settings.tokens[settings.url] ?? '';
      // A first run needs the token: the settings are open until there is one.
      ui.daemon.open = fields.token.value === '';
      selection = message.selection;
      showCanvas();
      return;
    case 'selection':
      selection = message.selection;
      showCanvas();
      return;
    case 'style':
      style = message.style;
      fields.referencePrompt.value = message.style.suggestedPrompt;
      render({ busy: false, status: '' });
      // A name that says nothing about the picture leaves the prompt to the designer.
      if (style.suggestedPrompt === '') fields.referencePrompt.focus();
      return;
    case 'style-refused':
      render({ busy: false, status: '', error: { message: [message.message] } });
      return;
    case 'reference':
      pendingExports.get(message.requestId)?.resolve(message.png);
      pendingExports.delete(message.requestId);
      return;
    case 'reference-failed':
      pendingExports.get(message.requestId)?.reject(new DaemonProblem({ code: 'reference_unavailable', message: message.message }));
      pendingExports.delete(message.requestId);
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

showCanvas();
toMain({ type: 'ready' });
