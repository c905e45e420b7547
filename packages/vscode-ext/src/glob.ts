/**
 * A matcher for workspace-relative paths (forward slashes) from a glob as VS Code settings write
 * them: `**` crosses folders (and, followed by a slash, also matches no folder at all), `*` and `?`
 * stay within one, `{a,b}` is either. Small enough to keep the extension free of a glob dependency.
 */
export function globMatcher(glob: string): (path: string) => boolean {
  let source = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      const wholeSegment = glob[i + 2] === '/';
      source += wholeSegment ? '(?:.*/)?' : '.*';
      i += wholeSegment ? 2 : 1;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '{') {
      braces++;
      source += '(?:';
    } else if (char === '}' && braces > 0) {
      braces--;
      source += ')';
    } else if (char === ',' && braces > 0) {
      source += '|';
    } else {
      source += char.replace(/[.+^$()|[\]\\}]/g, '\\$&');
    }
  }
  const pattern = new RegExp(`^${source}$`);
  return (path) => pattern.test(path);
}
