/**
 * The 2026-07-28 request-metadata headers (basic/transports/streamable-http "Request metadata
 * headers", SEP-2243): `Mcp-Method`, `Mcp-Name` and `Mcp-Param-{Name}` mirror the body, values that
 * are not plain ASCII travel as `=?base64?...?=`. Pure functions, shared by server and client.
 * @module
 */
import type { JsonObject } from '../../protocol/types.js';

const SENTINEL = /^=\?base64\?(.*)\?=$/;
const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Encodes a header value: plain ASCII as is, anything else (or sentinel-shaped text) as base64. */
export function encodeHeaderValue(value: string | number | boolean): string {
  const s = String(value);
  if (PLAIN.test(s) && !SENTINEL.test(s)) return s;
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `=?base64?${btoa(bin)}?=`;
}

/** Decodes a header value; `undefined` when the base64 form is malformed. */
export function decodeHeaderValue(raw: string): string | undefined {
  const m = SENTINEL.exec(raw);
  if (!m) return raw;
  const b64 = m[1]!;
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  try {
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The `Mcp-Name` source of a method: `params.name` or `params.uri`, or undefined when none. */
export function mcpNameOf(method: string, params: JsonObject | undefined): unknown {
  if (method === 'tools/call' || method === 'prompts/get') return params?.name;
  if (method === 'resources/read') return params?.uri;
  if (method === 'tasks/get' || method === 'tasks/update' || method === 'tasks/cancel') return params?.taskId;
  return undefined;
}

/** Property name → header name for every valid `x-mcp-header` in a tool's input schema. */
export function headerParams(inputSchema: JsonObject | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const props = inputSchema?.properties as Record<string, JsonObject> | undefined;
  if (!props || typeof props !== 'object') return out;
  for (const [prop, schema] of Object.entries(props)) {
    const h = schema?.['x-mcp-header'];
    if (typeof h === 'string' && h) out.set(prop, h);
  }
  return out;
}

/** Why a set of headers does not match the body, or undefined when it does. */
export function checkMcpHeaders(
  header: (name: string) => string | undefined,
  method: string,
  params: JsonObject | undefined,
  paramHeaders: Map<string, string> | undefined,
): string | undefined {
  const m = header('mcp-method');
  if (m === undefined) return 'Header mismatch: missing Mcp-Method header';
  if (m.trim() !== method)
    return `Header mismatch: Mcp-Method header value '${m}' does not match body value '${method}'`;
  const nameSource = mcpNameOf(method, params);
  if (nameSource !== undefined) {
    const raw = header('mcp-name');
    if (raw === undefined) return 'Header mismatch: missing Mcp-Name header';
    const decoded = decodeHeaderValue(raw.trim());
    if (decoded === undefined) return 'Header mismatch: Mcp-Name header is not valid base64';
    if (decoded !== String(nameSource)) {
      return `Header mismatch: Mcp-Name header value '${decoded}' does not match body value '${String(nameSource)}'`;
    }
  }
  if (paramHeaders && paramHeaders.size > 0) {
    const args = (params?.arguments ?? {}) as JsonObject;
    for (const [prop, name] of paramHeaders) {
      const value = args[prop];
      const raw = header(`mcp-param-${name.toLowerCase()}`);
      if (value === undefined || value === null) {
        if (raw !== undefined) return `Header mismatch: Mcp-Param-${name} sent without a body value`;
        continue;
      }
      if (raw === undefined) return `Header mismatch: missing Mcp-Param-${name} header`;
      const decoded = decodeHeaderValue(raw.trim());
      if (decoded === undefined) return `Header mismatch: Mcp-Param-${name} header is not valid base64`;
      const same =
        typeof value === 'number'
          ? Number(decoded) === value && decoded.trim() !== ''
          : decoded === String(value);
      if (!same)
        return `Header mismatch: Mcp-Param-${name} header value '${decoded}' does not match body value '${String(value)}'`;
    }
  }
  return undefined;
}
