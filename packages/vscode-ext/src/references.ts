/** The syntaxes image references are read from; which apply depends on the file type. */
export type SourceKind = 'html' | 'script' | 'component' | 'markdown' | 'css';

export type Syntax = 'img' | 'markdown' | 'css-url' | 'import';

/** CSS pixels, where the source says how big the image is shown. */
export interface SizeHint {
  width?: number;
  height?: number;
}

export interface ImageReference {
  /** The path as written, without query or fragment: `./img/a.png`, `/logo.png`, `icons/b.png`. */
  target: string;
  /** The `alt` text of an `<img>` or a Markdown image, when it has one. */
  alt?: string;
  /** 1-based, for showing where it was found. */
  line: number;
  /** Offsets of the path as written in the text (without its query or fragment): where a diagnostic goes. */
  start: number;
  end: number;
  /** From `width`/`height` attributes, an inline style, or the CSS rule around a `url()`. */
  size?: SizeHint;
  syntax: Syntax;
}

export const SOURCE_KINDS: Record<string, SourceKind> = {
  html: 'html',
  htm: 'html',
  js: 'script',
  jsx: 'script',
  mjs: 'script',
  ts: 'script',
  tsx: 'script',
  vue: 'component',
  svelte: 'component',
  md: 'markdown',
  markdown: 'markdown',
  mdx: 'markdown',
  css: 'css',
  scss: 'css',
  sass: 'css',
  less: 'css',
};

const SYNTAXES: Record<SourceKind, readonly Syntax[]> = {
  html: ['img', 'css-url'],
  script: ['img', 'import', 'css-url'],
  component: ['img', 'import', 'css-url'],
  markdown: ['markdown', 'img'],
  css: ['css-url'],
};

const IMAGE_EXTENSION = /\.(?:png|jpe?g|gif|webp|avif|svg)$/i;

/** The file type's kind from its name, or undefined for a file that holds no image references. */
export function sourceKindOf(fileName: string): SourceKind | undefined {
  const extension = /\.([^./\\]+)$/.exec(fileName)?.[1].toLowerCase();
  return extension === undefined ? undefined : SOURCE_KINDS[extension];
}

/** Every reference to a local image file in the text, in order of appearance. */
export function findReferences(text: string, kind: SourceKind): ImageReference[] {
  const found: (Match & { syntax: Syntax })[] = [];
  for (const syntax of SYNTAXES[kind]) found.push(...EXTRACTORS[syntax](text).map((match) => ({ ...match, syntax })));
  found.sort((a, b) => a.index - b.index);
  const lines = lineStarts(text);
  const references: ImageReference[] = [];
  for (const { index, raw, alt, size, syntax } of found) {
    const target = localImagePath(raw, syntax);
    if (target === undefined) continue;
    const trimmedAlt = alt?.trim().replace(/\s+/g, ' ');
    // The range covers the path as written: leading blanks and any query or fragment stay out.
    const start = index + (raw.length - raw.trimStart().length);
    const end = start + raw.trim().replace(/[?#].*$/, '').length;
    references.push({
      target,
      ...(trimmedAlt ? { alt: trimmedAlt } : {}),
      line: lineOf(lines, start),
      start,
      end,
      ...(size !== undefined && { size }),
      syntax,
    });
  }
  return references;
}

/** `index`: where `raw`, the path as written, starts in the text. */
type Match = { index: number; raw: string; alt?: string; size?: SizeHint };

const EXTRACTORS: Record<Syntax, (text: string) => Match[]> = {
  img: imgTags,
  markdown: markdownImages,
  'css-url': cssUrls,
  import: imports,
};

/** `<img>` in HTML, Vue and Svelte templates, JSX, and Next.js's `<Image>`; quoted values may hold `>`. */
const IMG_TAG = /<(?:img|Image)\b((?:[^>"'{]|"[^"]*"|'[^']*'|\{[^}]*\})*)>/g;
const ATTRIBUTE = /([^\s=/>"'{]+)(?:\s*=\s*("[^"]*"|'[^']*'|\{[^}]*\}|[^\s>"']+))?/g;

function imgTags(text: string): Match[] {
  return [...text.matchAll(IMG_TAG)].flatMap((tag) => {
    const attributes = new Map<string, { value?: string; written?: string; index: number }>();
    // Where the attributes start: after `<img` or `<Image`.
    const base = tag.index + tag[0].length - tag[1].length - 1;
    for (const attribute of tag[1].matchAll(ATTRIBUTE)) {
      const [whole, name, written] = attribute;
      const valueIndex = written === undefined ? 0 : base + attribute.index + whole.length - written.length;
      attributes.set(name, { value: written === undefined ? undefined : literal(written), written, index: valueIndex });
    }
    const src = attributes.get('src');
    if (src?.value === undefined) return [];
    const size = tagSize(attributes.get('width')?.written, attributes.get('height')?.written, attributes.get('style')?.written);
    return [{ index: src.index + src.written!.indexOf(src.value), raw: src.value, alt: attributes.get('alt')?.value, ...(size && { size }) }];
  });
}

/**
 * The size an `<img>` is shown at: its `width`/`height` attributes (`64`, `"64"`, `{64}`), else its
 * inline style (`width: 64px`, or JSX's `{{ width: 64 }}`). Only pixels count: a percentage or `em`
 * says nothing about the file's size.
 */
function tagSize(width: string | undefined, height: string | undefined, style: string | undefined): SizeHint | undefined {
  const styled = style === undefined ? {} : declaredSize(style);
  return sizeHint({ width: attributePixels(width) ?? styled.width, height: attributePixels(height) ?? styled.height });
}

function attributePixels(written: string | undefined): number | undefined {
  if (written === undefined) return undefined;
  const match = /^[{"'\s]*(\d+(?:\.\d+)?)(?:px)?[}"'\s]*$/.exec(written);
  return match === null ? undefined : Number(match[1]);
}

/** `width`/`height` declarations in pixels (a JSX number is pixels); `max-width` and the like are not sizes. */
function declaredSize(declarations: string): SizeHint {
  const pixels = (property: string) => {
    const match = new RegExp(`(?<![-\\w])${property}\\s*:\\s*["'\`]?(\\d+(?:\\.\\d+)?)(px)?(?![\\w%.])`, 'i').exec(declarations);
    return match === null ? undefined : Number(match[1]);
  };
  return { width: pixels('width'), height: pixels('height') };
}

function sizeHint(size: SizeHint): SizeHint | undefined {
  const hint: SizeHint = {};
  if (size.width !== undefined && size.width > 0) hint.width = size.width;
  if (size.height !== undefined && size.height > 0) hint.height = size.height;
  return hint.width === undefined && hint.height === undefined ? undefined : hint;
}

/**
 * The string an attribute value stands for: quoted, bare, or a JSX/Svelte `{"..."}` holding one
 * string literal. Any other expression (`{logo}`, Vue's `:src`) is not a path known before run time.
 */
function literal(value: string): string | undefined {
  const braced = /^\{\s*(.*?)\s*\}$/s.exec(value);
  const inner = braced === null ? value : braced[1];
  const quoted = /^(["'`])(.*)\1$/s.exec(inner);
  if (quoted !== null) return quoted[1] === '`' && quoted[2].includes('${') ? undefined : quoted[2];
  return braced === null ? inner : undefined;
}

/** `![alt](path)`, `![alt](<path with spaces>)`, `![alt](path "title")`. */
const MARKDOWN_IMAGE = /!\[([^\]]*)\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;

function markdownImages(text: string): Match[] {
  return [...text.matchAll(MARKDOWN_IMAGE)].map((m) => {
    const bracketed = m[2].startsWith('<');
    const index = m.index + m[0].indexOf(m[2], m[1].length + 3) + (bracketed ? 1 : 0);
    return { index, raw: bracketed ? m[2].slice(1, -1) : m[2], alt: m[1] };
  });
}

const CSS_URL = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]+))\s*\)/gi;

function cssUrls(text: string): Match[] {
  return [...text.matchAll(CSS_URL)].map((m) => {
    const raw = m[1] ?? m[2] ?? m[3];
    const size = ruleSize(text, m.index);
    return { index: m.index + m[0].indexOf(raw, 4), raw, ...(size && { size }) };
  });
}

/**
 * The size of the box a `url()` paints, from the declarations of its rule (`{ ... }` around it):
 * `background-size` in pixels first (the image's own size), else the element's `width`/`height`.
 */
function ruleSize(text: string, index: number): SizeHint | undefined {
  const open = text.lastIndexOf('{', index);
  if (open === -1 || text.lastIndexOf('}', index) > open) return undefined;
  const close = text.indexOf('}', index);
  const rule = text.slice(open + 1, close === -1 ? text.length : close);
  const background = /(?<![-\w])background-size\s*:\s*(\d+(?:\.\d+)?)px(?:\s+(\d+(?:\.\d+)?)px)?/i.exec(rule);
  if (background !== null) return sizeHint({ width: Number(background[1]), ...(background[2] !== undefined && { height: Number(background[2]) }) });
  return sizeHint(declaredSize(rule));
}

/** `import logo from './logo.png'`, with any binding form. */
const IMPORT = /\bimport\s+(?:[\w$]+\s*,?\s*)?(?:\*\s*as\s+[\w$]+|\{[^}]*\})?\s*from\s*(["'])([^"'\n]+)\1/g;

function imports(text: string): Match[] {
  return [...text.matchAll(IMPORT)].map((m) => ({ index: m.index + m[0].lastIndexOf(m[2]), raw: m[2] }));
}

/**
 * The file path a reference names, or undefined when it names no local image: a URL (`https:`,
 * `data:`, `//cdn`), a template placeholder, a module or alias path (`~pkg/`, `@/`, or an import
 * not starting with `.`), or no image extension.
 */
function localImagePath(raw: string | undefined, syntax: Syntax): string | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//') || /^[a-z][a-z\d+.-]*:/i.test(trimmed)) return undefined;
  if (/\$\{|\{\{|\{%|<%|^[~@]/.test(trimmed)) return undefined;
  if (syntax === 'import' && !/^\.\.?\//.test(trimmed)) return undefined;
  const path = trimmed.replace(/[?#].*$/, '');
  if (!IMAGE_EXTENSION.test(path)) return undefined;
  // Module specifiers are file names as they are; URLs in markup and CSS may be percent-encoded.
  if (syntax === 'import') return path;
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= index) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}
