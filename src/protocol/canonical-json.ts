/**
 * Canonical JSON: object keys sorted at every depth, so equal values serialize equally whatever
 * their key order (request digests, subscription keys).
 * @module
 */
import type { JsonObject } from './types.js';

/** Serializes `v` with object keys sorted at every depth. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as JsonObject;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
