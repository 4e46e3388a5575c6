import { ConfigError } from './errors.js';

/**
 * Whitelisted, validated plugin parameters (IBM ART style): a plugin declares a spec once and
 * uses it in its constructor and in `setParams`; the CLI derives JSON Schema from the same spec.
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
  | { readonly type: 'string'; readonly default: string; readonly description: string };

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

export type ValueOf<S extends ParamSpec> = S extends { type: 'number' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : string;

/** The validated parameter object a spec describes. */
export type ParamValues<S extends ParamSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Declares a spec with literal types preserved. */
export function defineParams<const S extends ParamSpecs>(spec: S): S {
  return spec;
}

/** Default values of a spec. */
export function defaultParams<S extends ParamSpecs>(spec: S): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) out[key] = s.default;
  return out as ParamValues<S>;
}

function checkOne(owner: string, key: string, spec: ParamSpec, value: unknown): unknown {
  const field = `${owner}.${key}`;
  switch (spec.type) {
    case 'number': {
      if (typeof value !== 'number' || Number.isNaN(value)) throw new ConfigError(field, `expected a number, got ${JSON.stringify(value)}`);
      if (spec.integer && !Number.isInteger(value)) throw new ConfigError(field, `expected an integer, got ${value}`);
      if (spec.min !== undefined && value < spec.min) throw new ConfigError(field, `expected ≥ ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) throw new ConfigError(field, `expected ≤ ${spec.max}, got ${value}`);
      if (spec.greaterThan !== undefined && !(value > spec.greaterThan)) throw new ConfigError(field, `expected > ${spec.greaterThan}, got ${value}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(field, `expected true or false, got ${JSON.stringify(value)}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw new ConfigError(field, `expected one of ${spec.values.join(', ')}, got ${JSON.stringify(value)}`);
      }
      return value;
    case 'string':
      if (typeof value !== 'string') throw new ConfigError(field, `expected a string, got ${JSON.stringify(value)}`);
      return value;
  }
}

/**
 * Validates `input` against `spec`, starting from `base` (defaults when omitted). Unknown keys
 * throw a {@link ConfigError} that lists the known ones; `undefined` values keep the base value.
 */
export function validateParams<S extends ParamSpecs>(
  owner: string,
  spec: S,
  input: Readonly<Record<string, unknown>> | undefined,
  base: ParamValues<S> = defaultParams(spec),
): ParamValues<S> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(input ?? {})) {
    const s = spec[key];
    if (!s) throw new ConfigError(`${owner}.${key}`, `unknown parameter; expected one of ${Object.keys(spec).join(', ') || '(none)'}`);
    if (value === undefined) continue;
    out[key] = checkOne(owner, key, s, value);
  }
  return out as ParamValues<S>;
}

/** JSON Schema (draft 2020-12) for a spec, for editors and the CLI's config schema. */
export function paramsJsonSchema(spec: ParamSpecs): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    switch (s.type) {
      case 'number':
        properties[key] = {
          type: s.integer ? 'integer' : 'number',
          default: s.default,
          description: s.description,
          ...(s.min !== undefined ? { minimum: s.min } : {}),
          ...(s.max !== undefined ? { maximum: s.max } : {}),
          ...(s.greaterThan !== undefined ? { exclusiveMinimum: s.greaterThan } : {}),
        };
        break;
      case 'boolean':
        properties[key] = { type: 'boolean', default: s.default, description: s.description };
        break;
      case 'enum':
        properties[key] = { enum: [...s.values], default: s.default, description: s.description };
        break;
      case 'string':
        properties[key] = { type: 'string', default: s.default, description: s.description };
        break;
    }
  }
  return { type: 'object', additionalProperties: false, properties };
}
