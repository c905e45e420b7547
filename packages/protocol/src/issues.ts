import type * as z from 'zod';
import type { ErrorCode, ProtocolError } from './errors';

type Issue = z.core.$ZodIssue;

/** The dotted path a client can show next to the offending input: `options.steps`, `prompts.3`. */
function fieldOf(issue: Issue): string | undefined {
  // Zod reports an unknown key at its parent; the key itself is what the sender got wrong.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  return path.length > 0 ? path.map(String).join('.') : undefined;
}

function codeOf(issue: Issue, field: string | undefined): ErrorCode {
  if (field === 'options' || field?.startsWith('options.')) return 'invalid_option';
  if (issue.code === 'too_big' && field === 'attachment.byteLength') return 'too_large';
  return 'bad_message';
}

function aOrAn(noun: string): string {
  if (noun === 'int') return 'an integer';
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function bound(issue: Extract<Issue, { code: 'too_big' | 'too_small' }>): string {
  const big = issue.code === 'too_big';
  const limit = big ? issue.maximum : issue.minimum;
  const inclusive = issue.inclusive !== false;
  const most = big ? 'most' : 'least';
  if (issue.origin === 'string' || issue.origin === 'array') {
    if (!big && limit === 1) return 'must not be empty';
    return issue.origin === 'string'
      ? `must be at ${most} ${limit} characters long`
      : `must have at ${most} ${limit} items`;
  }
  return inclusive ? `must be at ${most} ${limit}` : `must be ${big ? 'less' : 'greater'} than ${limit}`;
}

/** Worded for the person reading it in a plugin panel, not for the code that branches on `code`. */
function describe(issue: Issue, insideOptions: boolean): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${aOrAn(issue.expected)}`;
    case 'too_big':
    case 'too_small':
      return bound(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_value':
      return `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'unrecognized_keys':
      return insideOptions ? 'is not a known option' : 'is not a field of this message';
    case 'invalid_union':
      // A discriminated union lists the values it would have accepted.
      if ('options' in issue && issue.options !== undefined) {
        return `must be ${issue.options.map((value) => JSON.stringify(value)).join(' or ')}`;
      }
      return issue.message;
    default:
      return issue.message;
  }
}

/** Turns the first schema issue into the error sent back; the first is the one to fix first. */
export function issueToError(issue: Issue): ProtocolError {
  const field = fieldOf(issue);
  const code = codeOf(issue, field);
  const text = describe(issue, code === 'invalid_option');
  return field === undefined ? { code, message: text } : { code, message: `${field} ${text}`, field };
}
