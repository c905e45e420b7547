/**
 * Every message is strict: a field the protocol does not define is rejected, at the top level and
 * in every nested object (options, attachment, timings, limits, ...), with its dotted path. The
 * cases are generated from the schema tables the package exports, so a new message type, a new
 * `submit` kind or a new nested object is covered as soon as it exists, and fails here until
 * fixtures.ts has a valid message that reaches it.
 */
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import {
  clientMessageSchemas,
  daemonMessageSchemas,
  decodeClientMessage,
  decodeDaemonMessage,
  encodeMessage,
  type DecodeResult,
  type Frame,
  type Message,
} from '../src';
import { clientMessages, daemonMessages } from './fixtures';

type Schema = z.core.$ZodType;
type Fixture = [string, Message, Uint8Array?];

const UNKNOWN = 'notInTheProtocol';

/** A schema's definition, for walking it: `type` and the fields that kind of schema has. */
function def(schema: Schema): z.core.$ZodTypeDef & Record<string, unknown> {
  return schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
}

/**
 * Paths of every object (or record) a message of `schema` can hold, '' for the message itself;
 * array items are `*`. Wrappers (optional, nullable, default, pipe, lazy) are looked through.
 */
function objectPaths(schema: Schema, path: string[] = [], out = new Set<string>()): Set<string> {
  const d = def(schema);
  switch (d.type) {
    case 'object':
      out.add(path.join('.'));
      for (const [key, field] of Object.entries(d.shape as Record<string, Schema>)) objectPaths(field, [...path, key], out);
      break;
    case 'record':
      out.add(path.join('.'));
      objectPaths(d.valueType as Schema, [...path, '*'], out);
      break;
    case 'array':
      objectPaths(d.element as Schema, [...path, '*'], out);
      break;
    case 'union':
      for (const option of d.options as Schema[]) objectPaths(option, path, out);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      objectPaths(d.innerType as Schema, path, out);
      break;
    case 'pipe':
      objectPaths(d.in as Schema, path, out);
      break;
    case 'lazy':
      objectPaths((d.getter as () => Schema)(), path, out);
      break;
  }
  return out;
}

/** A message type's variants: the options of a discriminated union (`submit`'s kinds), else itself. */
function variants(type: string, schema: Schema): Array<{ label: string; schema: Schema }> {
  const d = def(schema);
  if (d.type !== 'union' || typeof d.discriminator !== 'string') return [{ label: type, schema }];
  const key = d.discriminator;
  return (d.options as Schema[]).map((option) => {
    const literal = def((def(option).shape as Record<string, Schema>)[key]).values as unknown[];
    return { label: `${type} (${key}: ${literal.map(String).join(' | ')})`, schema: option };
  });
}

/** Paths of the objects in a JSON value, with their real indices ('jobs.1') and in schema form ('jobs.*'). */
function objectsIn(value: unknown, path: string[] = []): Array<{ at: string[]; pattern: string }> {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectsIn(item, [...path, String(i)]));
  if (typeof value !== 'object' || value === null) return [];
  const here = { at: path, pattern: path.map((part) => (/^\d+$/.test(part) ? '*' : part)).join('.') };
  return [here, ...Object.entries(value).flatMap(([key, field]) => objectsIn(field, [...path, key]))];
}

/** A deep copy of `message` with an extra field in the object at `at`. */
function withUnknownField(message: Message, at: readonly string[]): Message {
  const copy = structuredClone(message) as unknown as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const part of at) target = target[part] as Record<string, unknown>;
  target[UNKNOWN] = 1;
  return copy as unknown as Message;
}

const frameOf = (message: Message, bytes?: Uint8Array): Frame => (bytes ? encodeMessage(message, bytes) : encodeMessage(message));

const directions: Array<{ side: string; schemas: Record<string, Schema>; fixtures: Fixture[]; decode: (frame: Frame) => DecodeResult<Message> }> = [
  { side: 'client', schemas: clientMessageSchemas, fixtures: clientMessages, decode: decodeClientMessage },
  { side: 'daemon', schemas: daemonMessageSchemas, fixtures: daemonMessages, decode: decodeDaemonMessage },
];

it('finds the nested objects of a schema (the walk that checks every one is reached)', () => {
  // At least these: the schemas may grow.
  const [set, reference] = variants('submit', clientMessageSchemas.submit).map((variant) => [...objectPaths(variant.schema)]);
  expect(set).toEqual(expect.arrayContaining(['', 'options']));
  expect(reference).toEqual(expect.arrayContaining(['', 'attachment', 'options']));
  expect([...objectPaths(daemonMessageSchemas.done)]).toEqual(expect.arrayContaining(['', 'timings', 'timings.phases']));
  expect([...objectPaths(daemonMessageSchemas.queue)]).toEqual(expect.arrayContaining(['', 'jobs.*']));
});

for (const { side, schemas, fixtures, decode } of directions) {
  describe(`${side} messages reject a field the protocol does not define`, () => {
    const cases = Object.entries(schemas).flatMap(([type, schema]) => variants(type, schema).map((variant) => ({ type, ...variant })));

    it.each(cases)('$label: at the top level and in every nested object, naming the field', ({ type, label, schema }) => {
      const valid = fixtures.filter(([, message]) => message.type === type && z.safeParse(schema, message).success);
      expect(valid.length, `fixtures.ts has no valid ${side} message for ${label}: add one`).toBeGreaterThan(0);

      const reached = new Set<string>();
      for (const [name, message, bytes] of valid) {
        expect(decode(frameOf(message, bytes)).ok, `fixture "${name}" decodes`).toBe(true);
        for (const { at, pattern } of objectsIn(message)) {
          reached.add(pattern);
          const field = [...at, UNKNOWN].join('.');
          const decoded = decode(frameOf(withUnknownField(message, at), bytes));
          if (decoded.ok) throw new Error(`${label} (fixture "${name}") accepts an unknown field at ${field}`);
          // The codes' contract (errors.ts): unknown options are invalid_option, other fields bad_message.
          expect(decoded.error.code, field).toBe(at[0] === 'options' ? 'invalid_option' : 'bad_message');
          expect(decoded.error.field).toBe(field);
          expect(decoded.error.message.startsWith(`${field} `), decoded.error.message).toBe(true);
        }
      }
      // Every object the schema allows must have been tried: a nested object no fixture holds
      // could be loosened unnoticed.
      const unreached = [...objectPaths(schema)].filter((path) => !reached.has(path));
      expect(unreached, `no fixture of ${label} holds an object at these paths: add one to fixtures.ts`).toEqual([]);
    });
  });
}
