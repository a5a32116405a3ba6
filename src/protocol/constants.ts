/**
 * Protocol revisions, reserved `_meta` keys and method names (MCP basic/versioning, basic/index).
 * @module
 */

/** The modern (stateless) revision. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';
/** The newest legacy (sessionful, `initialize`) revision. */
export const LATEST_LEGACY_PROTOCOL_VERSION = '2025-11-25';

/** Modern revisions this implementation speaks, newest first. */
export const MODERN_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];
/** Legacy revisions this implementation speaks, newest first. */
export const LEGACY_PROTOCOL_VERSIONS: readonly string[] = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
];
/** Every revision this implementation speaks, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  ...MODERN_PROTOCOL_VERSIONS,
  ...LEGACY_PROTOCOL_VERSIONS,
];

/** True when `version` names a modern revision (ISO dates compare as strings: `>= 2026-07-28`). */
export function isModernVersion(version: string): boolean {
  return version >= MODERN_PROTOCOL_VERSION;
}

/** Reserved `_meta` keys (2026-07-28 basic/index "Request metadata"). */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
  relatedTask: 'io.modelcontextprotocol/related-task',
} as const;

/** Log levels in increasing severity (RFC 5424 names, MCP server/utilities/logging). */
export const LOG_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
/** One log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Severity rank of a level (0 = debug), or -1 when unknown. */
export function logLevelRank(level: string): number {
  return (LOG_LEVELS as readonly string[]).indexOf(level);
}

/** Methods removed in 2026-07-28; a modern request for one is answered -32601. */
export const REMOVED_IN_MODERN: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
]);

/** Methods that may answer `resultType: "input_required"` (2026-07-28 basic/patterns/mrtr). */
export const MRTR_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);
