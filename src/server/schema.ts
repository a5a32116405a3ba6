/**
 * Tool and prompt schemas: any Standard Schema that also exports JSON Schema (zod v4, valibot,
 * arktype, ...), a raw shape of such schemas (`{ text: z.string() }`), or a raw JSON Schema object
 * kept verbatim and validated with Ajv (JSON Schema 2020-12, the 2025-11-25+ default dialect).
 * @module
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import type { JsonObject } from '../protocol/types.js';

/** A Standard Schema that can also describe itself as JSON Schema. */
export type StandardSchemaWithJson<I = unknown, O = I> = StandardSchemaV1<I, O> & StandardJSONSchemaV1<I, O>;

/** A raw shape: property name → Standard Schema. */
export type RawShape = { [key: string]: StandardSchemaV1 & Partial<StandardJSONSchemaV1> };

/** Anything accepted where a schema is expected. */
export type SchemaInput = StandardSchemaV1 | RawShape | JsonObject;

/** Output type of a schema input, for handler typing. */
export type InferSchema<S> =
  S extends StandardSchemaV1<any, infer O>
    ? O
    : S extends RawShape
      ? { [K in keyof S]: S[K] extends StandardSchemaV1<any, infer O> ? O : unknown }
      : { [key: string]: any };

/** The outcome of validating a value. */
export type ValidationResult = { ok: true; value: unknown } | { ok: false; message: string };

/** A schema ready for use: its JSON Schema for listings and a validator. */
export interface CompiledSchema {
  jsonSchema: JsonObject;
  validate(value: unknown): ValidationResult | Promise<ValidationResult>;
}

type AjvInstance = {
  compile(
    schema: object,
  ): ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
};
let ajv: AjvInstance | undefined;
let ajvLoading: Promise<AjvInstance> | undefined;
/**
 * Ajv's 2020-12 build, imported on first use: it is most of the package's import time, and only
 * raw JSON Schema inputs need it (Standard Schemas validate themselves).
 */
function loadAjv(): Promise<AjvInstance> {
  ajvLoading ??= import('ajv/dist/2020.js').then((mod) => {
    const Ctor = ((mod as any).default?.default ?? (mod as any).default) as new (opts: object) => AjvInstance;
    ajv = new Ctor({ strict: false, allErrors: false, validateFormats: false, validateSchema: false });
    return ajv;
  });
  return ajvLoading;
}

function isStandard(x: unknown): x is StandardSchemaV1 {
  return typeof x === 'object' && x !== null && '~standard' in x;
}

function isRawShape(x: object): x is RawShape {
  const values = Object.values(x);
  return values.length > 0 && values.every(isStandard);
}

function standardJson(s: StandardSchemaV1, io: 'input' | 'output'): JsonObject {
  const js = (s as unknown as Partial<StandardJSONSchemaV1>)['~standard']?.jsonSchema;
  if (!js) {
    throw new TypeError(
      `anywire: schema from "${s['~standard'].vendor}" cannot export JSON Schema (needs Standard JSON Schema support)`,
    );
  }
  return js[io]({ target: 'draft-2020-12' }) as JsonObject;
}

function issuesMessage(issues: readonly StandardSchemaV1.Issue[]): string {
  return issues
    .map((i) => {
      const path = i.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}

function standardValidate(s: StandardSchemaV1, value: unknown): ValidationResult | Promise<ValidationResult> {
  const r = s['~standard'].validate(value);
  const finish = (out: StandardSchemaV1.Result<unknown>): ValidationResult =>
    out.issues ? { ok: false, message: issuesMessage(out.issues) } : { ok: true, value: out.value };
  return r instanceof Promise ? r.then(finish) : finish(r);
}

/** Strips keys Ajv must not see (other dialects' `$schema`) without changing the listed schema. */
function forAjv(schema: JsonObject): JsonObject {
  if (typeof schema.$schema === 'string' && !schema.$schema.includes('2020-12')) {
    const { $schema: _drop, ...rest } = schema;
    return rest;
  }
  return schema;
}

/** Compiles a raw JSON Schema with Ajv; a schema Ajv cannot compile is listed but not enforced. */
export function compileJsonSchema(schema: JsonObject): CompiledSchema {
  let check: ReturnType<AjvInstance['compile']> | null | undefined;
  const validate = (value: unknown): ValidationResult | Promise<ValidationResult> => {
    if (check === undefined && !ajv) return loadAjv().then(() => validate(value));
    if (check === undefined) {
      try {
        check = ajv!.compile(forAjv(schema));
      } catch {
        check = null; // e.g. an unresolvable remote $ref: never fetched, not enforced
      }
    }
    if (check === null || check(value)) return { ok: true, value };
    const errs = check.errors ?? [];
    return {
      ok: false,
      message: errs.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`).join('; '),
    };
  };
  return { jsonSchema: schema, validate };
}

/**
 * Compiles any accepted schema input.
 * @param io which side of a transforming schema to describe: `input` for tool inputs, `output` for tool outputs
 * @throws TypeError when a Standard Schema cannot export JSON Schema
 */
export function compileSchema(
  input: SchemaInput | undefined,
  io: 'input' | 'output' = 'input',
): CompiledSchema {
  if (input === undefined) {
    // No schema: any object is valid (what Ajv would say, without loading it).
    return {
      jsonSchema: { type: 'object', properties: {} },
      validate: (value) =>
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? { ok: true, value }
          : { ok: false, message: '(root) must be object' },
    };
  }
  if (isStandard(input)) {
    return { jsonSchema: standardJson(input, io), validate: (v) => standardValidate(input, v) };
  }
  if (isRawShape(input)) {
    const properties: JsonObject = {};
    const required: string[] = [];
    for (const [key, s] of Object.entries(input)) {
      const js = standardJson(s, io);
      delete js.$schema;
      properties[key] = js;
      const probe = s['~standard'].validate(undefined);
      if (!(probe instanceof Promise) && probe.issues) required.push(key);
    }
    const jsonSchema: JsonObject = { type: 'object', properties };
    if (required.length) jsonSchema.required = required;
    return {
      jsonSchema,
      async validate(value) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          return { ok: false, message: 'expected an object' };
        }
        const out: JsonObject = { ...(value as JsonObject) };
        const problems: string[] = [];
        for (const [key, s] of Object.entries(input)) {
          const r = await standardValidate(
            s,
            Object.hasOwn(value, key) ? (value as JsonObject)[key] : undefined,
          );
          if (r.ok) {
            if (r.value !== undefined) out[key] = r.value;
          } else problems.push(`${key}: ${r.message}`);
        }
        return problems.length ? { ok: false, message: problems.join('; ') } : { ok: true, value: out };
      },
    };
  }
  return compileJsonSchema(input as JsonObject);
}
