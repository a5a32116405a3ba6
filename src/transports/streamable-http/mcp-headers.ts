/**
 * The 2026-07-28 request-metadata headers (basic/transports/streamable-http "Request metadata
 * headers", SEP-2243): `Mcp-Method`, `Mcp-Name` and `Mcp-Param-{Name}` mirror the body, values that
 * are not plain ASCII travel as `=?base64?...?=`. Pure functions, shared by server and client.
 * @module
 */
import type { JsonObject } from '../../protocol/types.js';
import { scanToolHeaders } from './client-headers.js';
import type { ParamHeaderDeclaration } from './client-headers.js';

const SENTINEL = /^=\?base64\?(.*)\?=$/;

export { encodeHeaderValue } from './client-headers.js';

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

/** The `Mcp-Param-*` declarations of a tool's input schema (empty when none or invalid). */
export function headerParams(inputSchema: JsonObject | undefined): readonly ParamHeaderDeclaration[] {
  if (!inputSchema) return [];
  let found = scanned.get(inputSchema);
  if (!found) {
    const scan = scanToolHeaders(inputSchema);
    found = scan.ok ? scan.declarations : [];
    scanned.set(inputSchema, found); // listings are rebuilt when a tool changes, so identity is a safe key
  }
  return found;
}

const scanned = new WeakMap<JsonObject, readonly ParamHeaderDeclaration[]>();

/** Why a set of headers does not match the body, or undefined when it does. */
export function checkMcpHeaders(
  header: (name: string) => string | undefined,
  method: string,
  params: JsonObject | undefined,
  paramHeaders: readonly ParamHeaderDeclaration[] | undefined,
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
  for (const { path, name } of paramHeaders ?? []) {
    let value: unknown = params?.arguments;
    for (const key of path)
      value = typeof value === 'object' && value !== null ? (value as JsonObject)[key] : undefined;
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
        ? decoded.trim() !== '' && Number(decoded) === value
        : decoded === String(value);
    if (!same) {
      return `Header mismatch: Mcp-Param-${name} header value '${decoded}' does not match body value '${String(value)}'`;
    }
  }
  return undefined;
}
