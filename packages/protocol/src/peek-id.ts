import { requestIdSchema } from './fields';

/**
 * How far into a frame too large to parse the request id is looked for. Clients put `id` near the
 * start (`{"v":1,"id":...,"type":...}`), and a bounded scan keeps a refused frame cheap to refuse.
 */
export const ID_SCAN_CHARS = 4096;

/**
 * The top-level `id` of a JSON object, read without parsing the whole text: a scan over the
 * object's members that stops at `id` or after `ID_SCAN_CHARS` characters. Nested values and
 * strings are skipped as tokens, so an `"id"` inside a prompt or an option is never taken for it.
 * Undefined when the text is no object, has no valid id in the window, or is malformed there.
 */
export function peekRequestId(text: string): string | undefined {
  const end = Math.min(text.length, ID_SCAN_CHARS);
  let i = skipSpace(text, 0, end);
  if (text[i] !== '{') return undefined;
  i += 1;
  for (;;) {
    i = skipSpace(text, i, end);
    if (text[i] !== '"') return undefined;
    const keyEnd = stringEnd(text, i, end);
    if (keyEnd === undefined) return undefined;
    const key = unquote(text.slice(i, keyEnd));
    i = skipSpace(text, keyEnd, end);
    if (text[i] !== ':') return undefined;
    i = skipSpace(text, i + 1, end);
    if (key === 'id') {
      if (text[i] !== '"') return undefined;
      const valueEnd = stringEnd(text, i, end);
      if (valueEnd === undefined) return undefined;
      return requestIdSchema.safeParse(unquote(text.slice(i, valueEnd))).data;
    }
    const valueEnd = valueEndAt(text, i, end);
    if (valueEnd === undefined) return undefined;
    i = skipSpace(text, valueEnd, end);
    if (text[i] !== ',') return undefined;
    i += 1;
  }
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i += 1;
  return i;
}

/** The index just past the string literal that opens at `i`, or undefined if it does not close in the window. */
function stringEnd(text: string, i: number, end: number): number | undefined {
  for (let j = i + 1; j < end; j++) {
    if (text[j] === '\\') j += 1;
    else if (text[j] === '"') return j + 1;
  }
  return undefined;
}

/** A string literal's value (escapes resolved), or undefined if it is not a valid literal. */
function unquote(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/** The index just past the JSON value at `i`: a string, a nested object or array, or a bare literal. */
function valueEndAt(text: string, i: number, end: number): number | undefined {
  if (text[i] === '"') return stringEnd(text, i, end);
  if (text[i] === '{' || text[i] === '[') {
    let depth = 0;
    for (let j = i; j < end; j++) {
      const c = text[j];
      if (c === '"') {
        const after = stringEnd(text, j, end);
        if (after === undefined) return undefined;
        j = after - 1;
      } else if (c === '{' || c === '[') {
        depth += 1;
      } else if (c === '}' || c === ']') {
        depth -= 1;
        if (depth === 0) return j + 1;
      }
    }
    return undefined;
  }
  // A number, true, false or null runs to the next delimiter.
  let j = i;
  while (j < end && !',}] \n\r\t'.includes(text[j])) j += 1;
  return j > i && j < end ? j : undefined;
}
