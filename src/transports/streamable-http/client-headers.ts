/**
 * Request metadata headers of the modern Streamable HTTP binding, client side, as a pure unit
 * (2026-07-28 basic/transports/streamable-http "Request Metadata"): `MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name`, and the `Mcp-Param-{Name}` headers mirrored from tool arguments whose
 * `inputSchema` property carries `"x-mcp-header": "{Name}"`, with the value encoding and the
 * validity rules for those annotations. No I/O.
 * @module
 */
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { META } from '../../protocol/constants.js';

/** The schema extension keyword that names a mirrored tool parameter. */
export const X_MCP_HEADER = 'x-mcp-header';

/** One mirrored parameter: where its value sits in `arguments`, and the `{Name}` of `Mcp-Param-{Name}`. */
export interface ParamHeaderDeclaration {
  /** Chain of `properties` keys from the schema root to the annotated property. */
  readonly path: readonly string[];
  /** The `x-mcp-header` value, as declared (header names are case-insensitive). */
  readonly name: string;
}

/** The outcome of {@link scanToolHeaders}: the declarations, or the first violated constraint. */
export type ToolHeaderScan =
  { ok: true; declarations: ParamHeaderDeclaration[] } | { ok: false; reason: string };

/** RFC 9110 section 5.1 `token` (`1*tchar`): also excludes empty, CR, LF and other controls. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_TYPES = new Set(['string', 'integer', 'boolean']);
/** Keywords whose subschemas are NOT statically reachable through a `properties` chain. */
const SINGLE_OR_ARRAY_KEYWORDS = [
  'items',
  'prefixItems',
  'contains',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'additionalItems',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
] as const;
const MAP_KEYWORDS = ['patternProperties', 'dependentSchemas', '$defs', 'definitions'] as const;

type SchemaNode = Record<string, unknown>;

function isNode(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The header-compatible type of an annotated property: `type` must be `string`, `integer` or
 * `boolean`, or an array of exactly one of those plus optionally `null` (a nullable parameter whose
 * `null` value simply omits the header). `number` is not permitted.
 */
function headerType(schema: SchemaNode): string | undefined {
  const t = schema.type;
  if (typeof t === 'string') return HEADER_TYPES.has(t) ? t : undefined;
  if (!Array.isArray(t)) return undefined;
  const kinds = t.filter((k) => k !== 'null');
  if (kinds.length !== 1 || t.length - kinds.length > 1) return undefined;
  return typeof kinds[0] === 'string' && HEADER_TYPES.has(kinds[0]) ? kinds[0] : undefined;
}

/**
 * Scans a tool's `inputSchema` for `x-mcp-header` annotations and checks every constraint of
 * 2026-07-28 basic/transports/streamable-http "Schema Extension": a non-empty RFC 9110 token,
 * case-insensitively unique, only on `string`/`integer`/`boolean` properties, and only on properties
 * reachable from the root through `properties` keys alone (never through `items`, composition,
 * conditionals, `$defs` or `$ref` targets). A tool whose scan fails MUST be dropped from `tools/list`.
 */
export function scanToolHeaders(inputSchema: unknown): ToolHeaderScan {
  const declarations: ParamHeaderDeclaration[] = [];
  const seen = new Map<string, string>();
  const where = (path: readonly string[]) => (path.length === 0 ? '<root>' : path.join('.'));
  const visit = (node: unknown, path: string[], reachable: boolean): string | undefined => {
    if (!isNode(node)) return undefined;
    if (X_MCP_HEADER in node) {
      const name = node[X_MCP_HEADER];
      if (!reachable || path.length === 0)
        return `${where(path)}: x-mcp-header is allowed only on properties reachable through 'properties' keys`;
      if (typeof name !== 'string' || !TOKEN.test(name))
        return `${where(path)}: x-mcp-header ${JSON.stringify(name)} is not an RFC 9110 token`;
      if (!headerType(node))
        return `${where(path)}: x-mcp-header is allowed only on string, integer or boolean properties (type ${JSON.stringify(node.type ?? null)})`;
      const lower = name.toLowerCase();
      const prior = seen.get(lower);
      if (prior !== undefined)
        return `${where(path)}: x-mcp-header ${JSON.stringify(name)} duplicates ${JSON.stringify(prior)} (case-insensitively)`;
      seen.set(lower, name);
      declarations.push({ path: [...path], name });
    }
    if (isNode(node.properties)) {
      for (const [key, child] of Object.entries(node.properties)) {
        const fault = visit(child, [...path, key], reachable);
        if (fault) return fault;
      }
    }
    for (const k of SINGLE_OR_ARRAY_KEYWORDS) {
      const sub = node[k];
      for (const branch of Array.isArray(sub) ? sub : [sub]) {
        const fault = visit(branch, [...path, `<${k}>`], false);
        if (fault) return fault;
      }
    }
    for (const k of MAP_KEYWORDS) {
      const sub = node[k];
      if (!isNode(sub)) continue;
      for (const [key, branch] of Object.entries(sub)) {
        const fault = visit(branch, [...path, `<${k}:${key}>`], false);
        if (fault) return fault;
      }
    }
    return undefined;
  };
  const fault = visit(inputSchema, [], true);
  return fault ? { ok: false, reason: fault } : { ok: true, declarations };
}

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';

function utf8Base64(value: string): string {
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * Encodes a header value (2026-07-28 streamable-http "Value Encoding"): a value made only of
 * printable ASCII (0x20-0x7E) without leading or trailing space passes as is; anything else
 * (non-ASCII, control characters including TAB, surrounding whitespace, the empty string) and any
 * value that itself looks like the sentinel is sent as `=?base64?{base64 of its UTF-8}?=`.
 */
export function encodeHeaderValue(value: string): string {
  let plain = value.length > 0 && value.trim() === value;
  if (plain && value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX)) plain = false;
  for (let i = 0; plain && i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) plain = false;
  }
  return plain ? value : `${SENTINEL_PREFIX}${utf8Base64(value)}${SENTINEL_SUFFIX}`;
}

/**
 * The text of one mirrored argument: a string as is, an integer in decimal, a boolean as
 * `true`/`false`; `undefined` (no header) for `null`, a missing value, an unsafe integer, or any
 * other kind of value.
 */
export function paramText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** The `Mcp-Param-{Name}` headers for one call's `arguments` (values already encoded). */
export function paramHeaders(
  declarations: readonly ParamHeaderDeclaration[],
  args: unknown,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of declarations) {
    let v: unknown = args;
    for (const key of d.path) v = isNode(v) ? v[key] : undefined;
    const text = paramText(v);
    if (text !== undefined) out[`Mcp-Param-${d.name}`] = encodeHeaderValue(text);
  }
  return out;
}

/** The modern protocol version a message claims in `params._meta`, if any (the era marker). */
export function modernVersionOf(message: JsonRpcMessage): string | undefined {
  if (!('method' in message) || !isNode(message.params)) return undefined;
  const meta = message.params._meta;
  const v = isNode(meta) ? meta[META.protocolVersion] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Methods whose `Mcp-Name` comes from a params field (`tasks/*` per the Tasks extension). */
const NAME_SOURCES: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/**
 * The request metadata headers for a modern message, or `undefined` for a message that carries
 * no modern protocol version: `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` where the method
 * has one, and for `tools/call` the `Mcp-Param-*` headers of `declarationsOf(toolName)`.
 */
export function modernHeaders(
  message: JsonRpcMessage,
  declarationsOf: (tool: string) => readonly ParamHeaderDeclaration[] | undefined,
): Record<string, string> | undefined {
  const version = modernVersionOf(message);
  if (version === undefined || !('method' in message)) return undefined;
  const params = message.params as SchemaNode;
  const headers: Record<string, string> = { 'MCP-Protocol-Version': version, 'Mcp-Method': message.method };
  const source = NAME_SOURCES[message.method];
  const name = source === undefined ? undefined : params[source];
  if (typeof name === 'string') headers['Mcp-Name'] = encodeHeaderValue(name);
  if (message.method === 'tools/call' && typeof name === 'string') {
    const declarations = declarationsOf(name);
    if (declarations) Object.assign(headers, paramHeaders(declarations, params.arguments));
  }
  return headers;
}
