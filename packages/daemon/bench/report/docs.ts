import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

const BEGIN = '<!-- bench:results:begin (written by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:results:end -->';

/**
 * Puts the generated tables into the page between its markers, leaving the written text around
 * them alone; a page without markers gets them appended.
 */
export async function writeResultsIntoPage(page: string, generated: string): Promise<void> {
  const block = `${BEGIN}\n\n${generated}\n\n${END}`;
  const text = existsSync(page) ? await readFile(page, 'utf8') : '';
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const updated = start >= 0 && end > start ? text.slice(0, start) + block + text.slice(end + END.length) : `${text}${text ? '\n' : ''}${block}\n`;
  await writeFile(page, updated);
}
