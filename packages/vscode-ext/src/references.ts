/** The syntaxes image references are read from; which apply depends on the file type. */
export type SourceKind = 'html' | 'script' | 'component' | 'markdown' | 'css';

export type Syntax = 'img' | 'markdown' | 'css-url' | 'import';

export interface ImageReference {
  /** The path as written, without query or fragment: `./img/a.png`, `/logo.png`, `icons/b.png`. */
  target: string;
  /** The `alt` text of an `<img>` or a Markdown image, when it has one. */
  alt?: string;
  /** 1-based, for showing where it was found. */
  line: number;
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
  const found: { index: number; raw: string; alt?: string; syntax: Syntax }[] = [];
  for (const syntax of SYNTAXES[kind]) found.push(...EXTRACTORS[syntax](text).map((match) => ({ ...match, syntax })));
  found.sort((a, b) => a.index - b.index);
  const lines = lineStarts(text);
  const references: ImageReference[] = [];
  for (const { index, raw, alt, syntax } of found) {
    const target = localImagePath(raw, syntax);
    if (target === undefined) continue;
    const trimmedAlt = alt?.trim().replace(/\s+/g, ' ');
    references.push({ target, ...(trimmedAlt ? { alt: trimmedAlt } : {}), line: lineOf(lines, index), syntax });
  }
  return references;
}

type Match = { index: number; raw: string; alt?: string };

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
    const attributes = new Map<string, string | undefined>();
    for (const [, name, value] of tag[1].matchAll(ATTRIBUTE)) attributes.set(name, value === undefined ? undefined : literal(value));
    const raw = attributes.get('src');
    return raw === undefined ? [] : [{ index: tag.index, raw, alt: attributes.get('alt') }];
  });
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
  return [...text.matchAll(MARKDOWN_IMAGE)].map((m) => ({ index: m.index, raw: m[2].replace(/^<(.*)>$/, '$1'), alt: m[1] }));
}

const CSS_URL = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]+))\s*\)/gi;

function cssUrls(text: string): Match[] {
  return [...text.matchAll(CSS_URL)].map((m) => ({ index: m.index, raw: m[1] ?? m[2] ?? m[3] }));
}

/** `import logo from './logo.png'`, with any binding form. */
const IMPORT = /\bimport\s+(?:[\w$]+\s*,?\s*)?(?:\*\s*as\s+[\w$]+|\{[^}]*\})?\s*from\s*(["'])([^"'\n]+)\1/g;

function imports(text: string): Match[] {
  return [...text.matchAll(IMPORT)].map((m) => ({ index: m.index, raw: m[2] }));
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
