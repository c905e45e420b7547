import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../packages/vscode-ext/src/glob';
import { isInside, relativePath, resolveTarget, webRootOf } from '../packages/vscode-ext/src/paths';
import { imagePrompt, subjectFromFileName } from '../packages/vscode-ext/src/prompts';
import { findReferences, sourceKindOf, type ImageReference } from '../packages/vscode-ext/src/references';

/** What is read, without where and how big (tested on their own below). */
const scan = (fileName: string, text: string): Omit<ImageReference, 'syntax' | 'start' | 'end' | 'size'>[] =>
  findReferences(text, sourceKindOf(fileName)!).map(({ syntax: _, start: _s, end: _e, size: _z, ...reference }) => reference);

/** The text each reference's range covers, which is where its diagnostic is drawn. */
const written = (fileName: string, text: string) => findReferences(text, sourceKindOf(fileName)!).map(({ start, end }) => text.slice(start, end));

const sizes = (fileName: string, text: string) => findReferences(text, sourceKindOf(fileName)!).map(({ target, size }) => [target, size]);

describe('sourceKindOf', () => {
  it('knows the file types that reference images, by extension in any case', () => {
    expect(['a.html', 'a.HTM', 'a.jsx', 'a.tsx', 'a.js', 'a.vue', 'a.svelte', 'a.md', 'a.mdx', 'a.css', 'a.scss', 'a.less'].map(sourceKindOf)).toEqual([
      'html', 'html', 'script', 'script', 'script', 'component', 'component', 'markdown', 'markdown', 'css', 'css', 'css',
    ]);
    expect(sourceKindOf('notes.txt')).toBeUndefined();
    expect(sourceKindOf('Makefile')).toBeUndefined();
    expect(sourceKindOf('constructor')).toBeUndefined();
  });
});

describe('findReferences', () => {
  it('reads <img> in HTML: src and alt in any order and quoting, and url() in styles', () => {
    const html = [
      '<!doctype html>',
      '<img src="img/user-avatar.png" alt="User avatar">',
      "<img alt='Company logo' class=\"logo\" src='/brand/logo.png' />",
      '<img src=icons/search.png>',
      '<img data-note="a > b" src="hero image.png" alt="">',
      '<div style="background: url(\'/bg/paper.png\')"></div>',
      '<style>.hero { background-image: url(hero-bg.png); }</style>',
    ].join('\n');
    expect(scan('index.html', html)).toEqual([
      { target: 'img/user-avatar.png', alt: 'User avatar', line: 2 },
      { target: '/brand/logo.png', alt: 'Company logo', line: 3 },
      { target: 'icons/search.png', line: 4 },
      { target: 'hero image.png', line: 5 },
      { target: '/bg/paper.png', line: 6 },
      { target: 'hero-bg.png', line: 7 },
    ]);
  });

  it('skips URLs, data, fragments, templates and non-images', () => {
    const html = [
      '<img src="https://cdn.example.com/a.png">',
      '<img src="//cdn.example.com/b.png">',
      '<img src="data:image/png;base64,AAAA">',
      '<img src="{{ user.avatar }}.png">',
      '<img src="docs/readme.pdf">',
      '<img src="#">',
      '<img alt="no source">',
      '<a href="c.png">not an image tag</a>',
    ].join('\n');
    expect(scan('a.html', html)).toEqual([]);
  });

  it('strips queries and fragments and decodes percent-escapes', () => {
    expect(scan('a.html', '<img src="img/my%20icon.png?v=3#x">')).toEqual([{ target: 'img/my icon.png', line: 1 }]);
  });

  it('reads JSX/TSX: string-literal src, image imports and inline url()', () => {
    const tsx = [
      "import React from 'react';",
      "import avatar from './assets/user-avatar.png';",
      "import { ReactComponent as Logo } from './logo.svg';",
      "import styles from './App.module.css';",
      "import pkgIcon from 'some-package/icon.png';",
      "import aliased from '@/assets/alias.png';",
      'export function App({ user }) {',
      '  return (',
      '    <header style={{ backgroundImage: "url(/images/banner.png)" }}>',
      '      <img src={avatar} alt="User avatar" />',
      '      <img src="/icons/settings.png" alt={"Settings"} />',
      "      <img src={'./icons/home.png'} alt='Home' />",
      '      <img src={`./icons/${user.icon}.png`} alt="dynamic" />',
      '      <Image src="/hero.png" alt="Mountains at dawn over a quiet lake" width={800} height={400} />',
      '    </header>',
      '  );',
      '}',
    ].join('\n');
    expect(scan('App.tsx', tsx)).toEqual([
      { target: './assets/user-avatar.png', line: 2 },
      { target: './logo.svg', line: 3 },
      { target: '/images/banner.png', line: 9 },
      { target: '/icons/settings.png', alt: 'Settings', line: 11 },
      { target: './icons/home.png', alt: 'Home', line: 12 },
      { target: '/hero.png', alt: 'Mountains at dawn over a quiet lake', line: 14 },
    ]);
  });

  it('reads Vue single-file components: template, script imports and style, not bound :src', () => {
    const vue = [
      '<template>',
      '  <img src="@/assets/alias.png" alt="aliased">',
      '  <img :src="dynamicSrc" alt="bound">',
      '  <img src="./assets/empty-state.png" alt="Empty inbox">',
      '</template>',
      '<script setup>',
      "import badge from '../badges/gold-badge.png'",
      '</script>',
      '<style scoped>',
      '.card { background: url("./assets/card-bg.png") no-repeat; }',
      '</style>',
    ].join('\n');
    expect(scan('Card.vue', vue)).toEqual([
      { target: './assets/empty-state.png', alt: 'Empty inbox', line: 4 },
      { target: '../badges/gold-badge.png', line: 7 },
      { target: './assets/card-bg.png', line: 10 },
    ]);
  });

  it('reads Svelte components, where src={expr} is not a path', () => {
    const svelte = [
      '<script>',
      "  import cart from './cart.png';",
      "  let icon = 'x';",
      '</script>',
      '<img src={cart} alt="Cart">',
      '<img src="checkout.png" alt="Checkout">',
      '<img src={icon} alt="Dynamic">',
    ].join('\n');
    expect(scan('Shop.svelte', svelte)).toEqual([
      { target: './cart.png', line: 2 },
      { target: 'checkout.png', alt: 'Checkout', line: 6 },
    ]);
  });

  it('reads Markdown images, with titles and angle brackets, and inline <img>', () => {
    const md = [
      '# Guide',
      '',
      '![Settings screen](./screens/settings.png)',
      '![](images/flow-diagram.png "The flow")',
      '![Team photo](<pics/team photo.png>)',
      'See [the logo](logo.png) (a link, not an image).',
      '<img src="badges/build.png" alt="Build badge">',
      '![Remote](https://example.com/x.png)',
    ].join('\n');
    expect(scan('README.md', md)).toEqual([
      { target: './screens/settings.png', alt: 'Settings screen', line: 3 },
      { target: 'images/flow-diagram.png', line: 4 },
      { target: 'pics/team photo.png', alt: 'Team photo', line: 5 },
      { target: 'badges/build.png', alt: 'Build badge', line: 7 },
    ]);
  });

  it('reads url() in CSS in every quoting, skipping module and remote URLs', () => {
    const css = [
      '.a { background: url(img/a.png); }',
      '.b { background: url( "img/b.png" ); }',
      ".c { background: url('img/c.png'), url(https://x.test/d.png); }",
      '.e { mask: url(~pkg/e.png); }',
      '@font-face { src: url(font.woff2); }',
    ].join('\n');
    expect(scan('site.css', css)).toEqual([
      { target: 'img/a.png', line: 1 },
      { target: 'img/b.png', line: 2 },
      { target: 'img/c.png', line: 3 },
    ]);
  });
});

describe('resolveTarget', () => {
  const root = join('/work', 'site');

  it('resolves relative paths from the referencing file and root paths from the web root', () => {
    const file = join(root, 'src', 'pages', 'Home.tsx');
    expect(resolveTarget('./icons/home.png', file, join(root, 'public'))).toBe(join(root, 'src', 'pages', 'icons', 'home.png'));
    expect(resolveTarget('icons/home.png', file, join(root, 'public'))).toBe(join(root, 'src', 'pages', 'icons', 'home.png'));
    expect(resolveTarget('../assets/a.png', file, join(root, 'public'))).toBe(join(root, 'src', 'assets', 'a.png'));
    expect(resolveTarget('/brand/logo.png', file, join(root, 'public'))).toBe(join(root, 'public', 'brand', 'logo.png'));
  });

  it('finds the web root: public/, then static/, else the folder itself', async () => {
    const dirs = (...names: string[]) => async (path: string) => names.map((name) => join(root, name)).includes(path);
    expect(await webRootOf(root, dirs('static', 'public'))).toBe(join(root, 'public'));
    expect(await webRootOf(root, dirs('static'))).toBe(join(root, 'static'));
    expect(await webRootOf(root, dirs())).toBe(root);
  });

  it('tells paths inside the workspace folder from those outside', () => {
    expect(isInside(root, join(root, 'a', 'b.png'))).toBe(true);
    expect(isInside(root, join(root, '..', 'other', 'b.png'))).toBe(false);
    expect(isInside(root, join(root + '-sibling', 'b.png'))).toBe(false);
    expect(relativePath(root, join(root, 'public', 'placeholders', 'a.png'))).toBe('public/placeholders/a.png');
  });
});

describe('globMatcher', () => {
  it('matches the default placeholder glob at any depth', () => {
    const matches = globMatcher('**/placeholders/**');
    expect(matches('placeholders/a.png')).toBe(true);
    expect(matches('public/img/placeholders/icons/a.png')).toBe(true);
    expect(matches('public/placeholder/a.png')).toBe(false);
    expect(matches('public/my-placeholders/a.png')).toBe(false);
  });

  it('supports *, ? and {a,b} within one folder, and escapes the rest', () => {
    const matches = globMatcher('assets/*-placeholder.{png,jpg}');
    expect(matches('assets/hero-placeholder.png')).toBe(true);
    expect(matches('assets/hero-placeholder.jpg')).toBe(true);
    expect(matches('assets/sub/hero-placeholder.png')).toBe(false);
    expect(matches('assets/hero-placeholderXpng')).toBe(false);
    expect(globMatcher('img/icon?.png')('img/icon1.png')).toBe(true);
    expect(globMatcher('img/icon?.png')('img/icon12.png')).toBe(false);
  });
});

describe('prompts', () => {
  it('makes an icon subject from a file name', () => {
    expect(subjectFromFileName('user-avatar.png')).toBe('user avatar');
    expect(subjectFromFileName('/a/b/shoppingCart@2x.png')).toBe('shopping cart');
    expect(subjectFromFileName('hero_image_01.png')).toBe('hero');
    expect(subjectFromFileName('placeholder-avatar.png')).toBe('avatar');
    expect(subjectFromFileName('ic_home.png')).toBe('home icon');
    expect(subjectFromFileName('404.png')).toBe('404');
  });

  it('builds one prompt per image from its alt text or file name', () => {
    expect(imagePrompt({ target: 'img/user-avatar.png' })).toBe('a user avatar icon');
    expect(imagePrompt({ target: 'icons/upload.png' })).toBe('an upload icon');
    expect(imagePrompt({ target: 'x.png', alt: 'Company logo' })).toBe('a Company logo');
    expect(imagePrompt({ target: 'x.png', alt: 'Settings' })).toBe('a Settings icon');
    expect(imagePrompt({ target: 'hero.png', alt: 'Mountains at dawn over a quiet lake' })).toBe('Mountains at dawn over a quiet lake');
  });

  it('appends the style hint', () => {
    expect(imagePrompt({ target: 'img/user-avatar.png' }, ' flat pastel ')).toBe('a user avatar icon, flat pastel');
  });
});

describe('where a reference is written', () => {
  it('covers exactly the path as written, in every syntax, leaving out queries and fragments', () => {
    const html = [
      '<img alt="a > b" src="img/user-avatar.png?v=2">',
      "<img src='/brand/logo.png#x' />",
      '<img src=icons/search.png>',
      '<img src="img/my%20icon.png">',
      '<div style="background: url( \'/bg/paper.png\' )"></div>',
    ].join('\n');
    expect(written('index.html', html)).toEqual(['img/user-avatar.png', '/brand/logo.png', 'icons/search.png', 'img/my%20icon.png', '/bg/paper.png']);
    const tsx = ["import avatar from './assets/user-avatar.png';", '<img src={"/icons/settings.png"} />', "<img src={'./home.png'} />"].join('\n');
    expect(written('App.tsx', tsx)).toEqual(['./assets/user-avatar.png', '/icons/settings.png', './home.png']);
    const md = ['![Logo](img/logo.png "The logo")', '![Hero](<img/hero image.png>)', '![](  spaced.png  )'].join('\n');
    expect(written('README.md', md)).toEqual(['img/logo.png', 'img/hero image.png', 'spaced.png']);
    expect(written('a.css', '.a { background: url("x/y.png") } .b { mask: url(z.png) }')).toEqual(['x/y.png', 'z.png']);
  });

  it('reports the line of the path, not of the tag that holds it', () => {
    const html = '<img\n  alt="Hero"\n  src="img/hero.png"\n>';
    expect(findReferences(html, 'html').map(({ line }) => line)).toEqual([3]);
  });
});

describe('the size a reference shows its image at', () => {
  it('reads width and height attributes as HTML and JSX write them, in pixels only', () => {
    const html = [
      '<img src="a.png" width="64" height="32">',
      '<img src="b.png" width=120>',
      '<img src="c.png" height="48px">',
      '<img src="d.png" width="50%" height="2em">',
      '<img src="e.png">',
    ].join('\n');
    expect(sizes('index.html', html)).toEqual([
      ['a.png', { width: 64, height: 32 }],
      ['b.png', { width: 120 }],
      ['c.png', { height: 48 }],
      ['d.png', undefined],
      ['e.png', undefined],
    ]);
    const tsx = '<Image src="/hero.png" width={800} height={400} />\n<img src="/i.png" style={{ width: 24, height: "24px", maxWidth: 100 }} />';
    expect(sizes('App.tsx', tsx)).toEqual([
      ['/hero.png', { width: 800, height: 400 }],
      ['/i.png', { width: 24, height: 24 }],
    ]);
  });

  it('takes an inline style when the attributes say nothing, and ignores max- and min- sizes', () => {
    const html = '<img src="a.png" style="max-width: 10px; width: 96px; min-height: 4px; height:72px">\n<img src="b.png" width="10" style="width: 99px">';
    expect(sizes('index.html', html)).toEqual([
      ['a.png', { width: 96, height: 72 }],
      ['b.png', { width: 10 }],
    ]);
  });

  it("reads the CSS rule around a url(): background-size first, else the element's width and height", () => {
    const css = [
      '.logo { width: 128px; height: 64px; background: url(logo.png) no-repeat; }',
      '.icon { background-image: url("icon.png"); background-size: 32px 24px; width: 100px; }',
      '.bar { background-size: 16px; background: url(bar.png) }',
      '.fluid { width: 50%; background: url(fluid.png) }',
      'body { background: url(paper.png) }',
      '@media (min-width: 600px) { .m { height: 40px; background: url(m.png) } }',
    ].join('\n');
    expect(sizes('site.css', css)).toEqual([
      ['logo.png', { width: 128, height: 64 }],
      ['icon.png', { width: 32, height: 24 }],
      ['bar.png', { width: 16 }],
      ['fluid.png', undefined],
      ['paper.png', undefined],
      ['m.png', { height: 40 }],
    ]);
  });
});
