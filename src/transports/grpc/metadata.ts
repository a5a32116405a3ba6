/**
 * gRPC metadata on the MCP side: metadata becomes the `headers` record handlers see, and the
 * optional request-metadata keys of a `Call` (`mcp-protocol-version`, `mcp-method`, `mcp-name`) are
 * checked against the body as 2026-07-28 Streamable HTTP checks its headers (SEP-2243; mismatch
 * -32020). See `mcp.proto`, "request metadata".
 * @module
 */
import { Metadata } from '@grpc/grpc-js';
import type { JsonRpcRequest } from '../../jsonrpc/types.js';
import { META } from '../../protocol/constants.js';
import type { JsonObject } from '../../protocol/types.js';

/**
 * Metadata as a record with lower-cased keys: several values of one key joined with `", "`, binary
 * (`-bin`) values base64-encoded.
 */
export function metadataToHeaders(metadata: Metadata): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    out[key.toLowerCase()] = values
      .map((v) => (typeof v === 'string' ? v : Buffer.from(v).toString('base64')))
      .join(', ');
  }
  return out;
}

/**
 * Builds metadata from a record (keys are lower-cased; an array sets several values; keys ending
 * in `-bin` take Buffer values).
 */
export function headersToMetadata(
  headers: Record<string, string | Buffer | (string | Buffer)[] | undefined> = {},
): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) md.add(key.toLowerCase(), v);
  }
  return md;
}

const SENTINEL = /^=\?base64\?(.*)\?=$/;

/** Decodes an `mcp-name` value: plain ASCII as is, `=?base64?...?=` as UTF-8; undefined when malformed. */
export function decodeMetadataValue(raw: string): string | undefined {
  const m = SENTINEL.exec(raw);
  if (!m) return raw;
  const b64 = m[1]!;
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** Encodes an `mcp-name` value: printable ASCII as is, anything else as `=?base64?...?=`. */
export function encodeMetadataValue(value: string): string {
  if (/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) && !SENTINEL.test(value)) return value;
  return `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The `mcp-name` source of a request: `params.name`, `params.uri` or `params.taskId`. */
function nameOf(method: string, params: JsonObject | undefined): unknown {
  if (method === 'tools/call' || method === 'prompts/get') return params?.name;
  if (method === 'resources/read') return params?.uri;
  if (method.startsWith('tasks/')) return params?.taskId;
  return undefined;
}

/**
 * Why the optional request metadata of a `Call` does not match its body, or undefined when it
 * matches (absent keys are not checked).
 */
export function checkCallMetadata(
  headers: Record<string, string | undefined>,
  request: JsonRpcRequest,
): string | undefined {
  const params = request.params as JsonObject | undefined;
  const version = headers['mcp-protocol-version'];
  if (version !== undefined) {
    const claim = (params?._meta as JsonObject | undefined)?.[META.protocolVersion];
    if (version.trim() !== claim) {
      return `Header mismatch: mcp-protocol-version metadata '${version}' does not match body value '${String(claim)}'`;
    }
  }
  const method = headers['mcp-method'];
  if (method !== undefined && method.trim() !== request.method) {
    return `Header mismatch: mcp-method metadata '${method}' does not match body value '${request.method}'`;
  }
  const raw = headers['mcp-name'];
  if (raw !== undefined) {
    const name = decodeMetadataValue(raw.trim());
    if (name === undefined) return 'Header mismatch: mcp-name metadata is not valid base64';
    const source = nameOf(request.method, params);
    if (source === undefined || name !== String(source)) {
      return `Header mismatch: mcp-name metadata '${name}' does not match body value '${String(source)}'`;
    }
  }
  return undefined;
}
