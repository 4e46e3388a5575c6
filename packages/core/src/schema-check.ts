import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError } from './errors.js';

/**
 * One definition per format: a TypeBox schema gives the TypeScript type (`Static<typeof S>`),
 * the published JSON Schema (the schema object itself) and, through Ajv, the runtime check.
 * Ajv compiles once per schema; both libraries run in browsers.
 */
// strictNumbers: NaN and ±Infinity are not numbers here (JSON cannot hold them either).
const ajv = new Ajv({ allErrors: false, strict: false, strictNumbers: true, useDefaults: false, verbose: true }); // verbose: errors carry their parentSchema (known field names)
// ISO 8601 date-time as written by `new Date().toISOString()` (and any offset).
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i);

const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function at(data: unknown, pointer: string): unknown {
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

/** `/models/ard/attacks/0` → `models.ard.attacks[0]`, prefixed by `prefix` when given. */
export function pointerToField(pointer: string, prefix = ''): string {
  let field = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(key) ? `[${key}]` : field ? `.${key}` : key;
  }
  return field;
}

function typeList(type: unknown): string {
  const names = (Array.isArray(type) ? type : String(type).split(',')).map((t) => (t === 'integer' ? 'an integer' : t === 'null' ? 'null' : t === 'boolean' ? 'true or false' : t === 'array' ? 'a list' : t === 'object' ? 'an object' : `a ${t}`));
  return names.join(' or ').replace(/^a (number|string) or null$/, '$1 or null');
}

/** One Ajv error as (field, expectation); the expectation says what was expected and what came. */
function explain(error: ErrorObject, data: unknown, prefix: string): { field: string; expected: string } {
  const field = pointerToField(error.instancePath, prefix);
  const got = `got ${describe(at(data, error.instancePath))}`;
  const p = error.params as Record<string, unknown>;
  const join = (f: string, key: string) => (f ? `${f}.${key}` : key);
  switch (error.keyword) {
    case 'required': {
      const property = (error.parentSchema as { properties?: Record<string, { description?: string }> } | undefined)?.properties?.[String(p.missingProperty)];
      return { field: join(field, String(p.missingProperty)), expected: property?.description ? `missing; expected ${property.description}` : 'missing; this field is required' };
    }
    case 'anyOf':
    case 'oneOf':
    case 'pattern': {
      // A schema's title says in words what it accepts ("a name of letters, digits and dashes").
      const title = (error.parentSchema as { title?: string } | undefined)?.title;
      return { field, expected: `expected ${title ?? (error.keyword === 'pattern' ? `a string matching ${String(p.pattern)}` : 'one of the allowed forms')}, ${got}` };
    }
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return { field: join(field, String(p.additionalProperty)), expected: `unknown field; expected one of ${known.join(', ') || '(none)'}` };
    }
    case 'type':
      return { field, expected: `expected ${typeList(p.type)}, ${got}` };
    case 'enum':
      return { field, expected: `expected one of ${(p.allowedValues as unknown[]).join(', ')}, ${got}` };
    case 'const':
      return { field, expected: `expected ${describe(p.allowedValue)}, ${got}` };
    case 'minimum':
      return { field, expected: `expected ≥ ${p.limit}, ${got}` };
    case 'maximum':
      return { field, expected: `expected ≤ ${p.limit}, ${got}` };
    case 'exclusiveMinimum':
      return { field, expected: `expected > ${p.limit}, ${got}` };
    case 'exclusiveMaximum':
      return { field, expected: `expected < ${p.limit}, ${got}` };
    case 'minItems':
    case 'maxItems':
      return { field, expected: `expected ${error.keyword === 'minItems' ? 'at least' : 'at most'} ${p.limit} items, ${got}` };
    default:
      return { field, expected: `${error.message ?? `fails ${error.keyword}`}, ${got}` };
  }
}

const depth = (error: ErrorObject): number => error.instancePath.split('/').length + (error.keyword === 'required' || error.keyword === 'additionalProperties' ? 1 : 0);
const isUnion = (error: ErrorObject): boolean => error.keyword === 'anyOf' || error.keyword === 'oneOf';

/**
 * The errors of `value` against `schema` as (field, expectation) pairs, the most telling first;
 * empty when it conforms. `prefix` starts every field (e.g. the plugin name). Within a union
 * (string | object) the deepest error is the one about the branch the value was meant for; at equal
 * depth the union's own error (its title) beats a single branch's.
 */
export function schemaErrors(schema: TSchema, value: unknown, prefix = ''): { field: string; expected: string }[] {
  const validate = compile(schema);
  if (validate(value)) return [];
  const errors = [...(validate.errors ?? [])].sort((a, b) => depth(b) - depth(a) || Number(isUnion(b)) - Number(isUnion(a)));
  return errors.map((error) => explain(error, value, prefix));
}

/**
 * Returns `value` typed by `schema`, or throws a one-line {@link ConfigError} naming the first
 * bad field, e.g. `results.json: models.ard.attacks.pgd.medianL2: expected number or null, got "far"`.
 * `source` (a file name) starts the message when given.
 */
export function checkSchema<S extends TSchema>(schema: S, value: unknown, source?: string): Static<S> {
  const [first] = schemaErrors(schema, value);
  if (first) throw new ConfigError(source ? `${source}: ${first.field || '(root)'}` : first.field || '(root)', first.expected);
  return value as Static<S>;
}
