import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { ConfigError } from './errors.js';
import { schemaErrors } from './schema-check.js';

/**
 * Whitelisted, validated plugin parameters (IBM ART style): a plugin declares a spec once and
 * uses it in its constructor and in `setParams`. One TypeBox schema built from the spec
 * ({@link paramsSchema}) is both the published JSON Schema and what Ajv validates against.
 */
export type ParamSpec =
  | {
      readonly type: 'number';
      readonly default: number;
      readonly min?: number;
      readonly max?: number;
      /** Exclusive lower bound (e.g. temperature > 0). */
      readonly greaterThan?: number;
      readonly integer?: boolean;
      readonly description: string;
    }
  | { readonly type: 'boolean'; readonly default: boolean; readonly description: string }
  | {
      readonly type: 'enum';
      readonly values: readonly string[];
      readonly default: string;
      readonly description: string;
    }
  | { readonly type: 'string'; readonly default: string; readonly description: string }
  | { readonly type: 'numbers'; readonly default: readonly number[]; readonly min?: number; readonly description: string }
  /** A group of parameters given as one object (e.g. `optimizer: { name, learningRate }`); keys left out keep their defaults. */
  | { readonly type: 'object'; readonly params: ParamSpecs; readonly description: string };

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

export type ValueOf<S extends ParamSpec> = S extends { type: 'number' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : S extends { type: 'numbers' }
        ? number[]
        : S extends { type: 'object'; params: infer N extends ParamSpecs }
          ? ParamValues<N>
          : string;

/** The validated parameter object a spec describes. */
export type ParamValues<S extends ParamSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/**
 * Declares a parameter spec with literal types preserved, so {@link ParamValues} types the
 * validated object and the spec doubles as the JSON Schema and the runtime check.
 *
 * @example
 * ```ts
 * export const KD_LIKE_PARAMS = defineParams({
 *   temperature: { type: 'number', default: 4, greaterThan: 0, description: 'Softmax temperature T' },
 *   alpha: { type: 'number', default: 0.9, min: 0, max: 1, description: 'Weight of the soft term' },
 *   soften: { type: 'enum', values: ['teacher', 'both'], default: 'both', description: 'Which logits T divides' },
 * });
 * type KdLikeParams = ParamValues<typeof KD_LIKE_PARAMS>; // { temperature: number; alpha: number; soften: 'teacher' | 'both' }
 * ```
 */
export function defineParams<const S extends ParamSpecs>(spec: S): S {
  return spec;
}

/** Default values of a spec. */
export function defaultParams<S extends ParamSpecs>(spec: S): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) out[key] = s.type === 'object' ? defaultParams(s.params) : s.type === 'numbers' ? [...s.default] : s.default;
  return out as ParamValues<S>;
}

/**
 * The one TypeBox schema of a spec (cached per spec): it is the JSON Schema the CLI publishes and
 * the object Ajv checks values against, so the two cannot disagree.
 */
export function paramsSchema(spec: ParamSpecs): TObject {
  let schema = schemas.get(spec);
  if (!schema) {
    const properties: Record<string, TSchema> = {};
    // Optional: every parameter has a default, so a config may leave any of them out.
    for (const [key, s] of Object.entries(spec)) properties[key] = Type.Optional(propertySchema(s));
    schema = Type.Object(properties, { additionalProperties: false });
    schemas.set(spec, schema);
  }
  return schema;
}
const schemas = new WeakMap<ParamSpecs, TObject>();

function propertySchema(s: ParamSpec): TSchema {
  if (s.type === 'object') return Type.Object(paramsSchema(s.params).properties, { additionalProperties: false, description: s.description });
  const common = { default: s.default, description: s.description };
  switch (s.type) {
    case 'numbers':
      return Type.Array(Type.Number(s.min !== undefined ? { minimum: s.min } : {}), { ...common, default: [...s.default] });
    case 'number': {
      const bounds = {
        ...common,
        ...(s.min !== undefined ? { minimum: s.min } : {}),
        ...(s.max !== undefined ? { maximum: s.max } : {}),
        ...(s.greaterThan !== undefined ? { exclusiveMinimum: s.greaterThan } : {}),
      };
      return s.integer ? Type.Integer(bounds) : Type.Number(bounds);
    }
    case 'boolean':
      return Type.Boolean(common);
    case 'enum':
      return Type.Unsafe<string>({ enum: [...s.values], ...common });
    case 'string':
      return Type.String(common);
  }
}

/**
 * Validates `input` against `spec`, starting from `base` (defaults when omitted). Unknown keys
 * throw a {@link ConfigError} that lists the known ones; `undefined` values keep the base value.
 *
 * @example
 * ```ts
 * const values = validateParams('my-loss', MY_LOSS_PARAMS, params); // defaults filled, ranges checked
 * this.values = validateParams('my-loss', MY_LOSS_PARAMS, update, this.values); // setParams: starts from the current values
 * ```
 */
export function validateParams<S extends ParamSpecs>(
  owner: string,
  spec: S,
  input: Readonly<Record<string, unknown>> | undefined,
  base: ParamValues<S> = defaultParams(spec),
): ParamValues<S> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === undefined) continue;
    const s = spec[key];
    // A group merges key by key, so `optimizer: { learningRate: 0.1 }` keeps the default name.
    out[key] = s?.type === 'object' && isPlainObject(value) && isPlainObject(out[key]) ? { ...(out[key] as object), ...withoutUndefined(value) } : value;
  }
  const [first] = schemaErrors(paramsSchema(spec), out, owner);
  if (first) throw new ConfigError(first.field, first.expected.replace(/^unknown field;/, 'unknown parameter;'));
  return out as ParamValues<S>;
}

/** JSON Schema (draft-07) of a spec, for editors and the CLI's config schema: {@link paramsSchema} as plain JSON. */
export function paramsJsonSchema(spec: ParamSpecs): Record<string, unknown> {
  return JSON.parse(JSON.stringify(paramsSchema(spec))) as Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
