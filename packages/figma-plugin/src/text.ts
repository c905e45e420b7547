/**
 * A sentence for people with the commands in it marked, so that the panel can show a command as
 * code and a Figma toast, which shows plain text only, as the plain words. No markdown backticks
 * ever reach a person.
 */
export type Span = string | { readonly code: string };
export type Words = readonly Span[];

export const code = (command: string): Span => ({ code: command });

/** Writes a sentence as a template, with commands interpolated as `code(...)` spans. */
export function words(strings: TemplateStringsArray, ...values: (Span | Words)[]): Words {
  const spans: Span[] = [];
  strings.forEach((text, index) => {
    spans.push(text);
    if (index < values.length) {
      const value = values[index];
      spans.push(...(Array.isArray(value) ? (value as Words) : [value as Span]));
    }
  });
  return joinText(spans);
}

/** The sentence as plain text, commands as their words. */
export function plainText(sentence: Words): string {
  return sentence.map((span) => (typeof span === 'string' ? span : span.code)).join('');
}

/**
 * Text worded elsewhere (the daemon, the protocol decoder), which marks commands the markdown way:
 * each backtick pair becomes a code span; a stray backtick is dropped.
 */
export function fromMarkdown(text: string): Words {
  const parts = text.split('`');
  const closed = parts.length % 2 === 1 ? parts : [...parts.slice(0, -2), parts.slice(-2).join('')];
  return joinText(closed.map((part, index) => (index % 2 === 1 && part !== '' ? code(part) : part)));
}

/** Adjacent text spans merged, empty ones dropped: one sentence has one shape. */
function joinText(spans: readonly Span[]): Words {
  const joined: Span[] = [];
  for (const span of spans) {
    const last = joined.at(-1);
    if (typeof span === 'string') {
      if (span === '') continue;
      if (typeof last === 'string') joined[joined.length - 1] = last + span;
      else joined.push(span);
    } else {
      joined.push(span);
    }
  }
  return joined;
}
