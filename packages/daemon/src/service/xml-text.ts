/** Text as XML character data or an attribute value (the plist and the task definition). */
export function xmlText(value: string): string {
  // XML 1.0 has no way to write most control characters, even escaped.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(value)) throw new Error(`a service setting cannot hold control characters: ${JSON.stringify(value)}`);
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
