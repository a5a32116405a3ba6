/**
 * The Streamable HTTP client binding (both eras, with the 2024-11-05 HTTP+SSE fallback) and its
 * pure helpers. Runtime-neutral: fetch and web streams only, no `node:` imports.
 * @module
 */

export type { ParamHeaderDeclaration, ToolHeaderScan } from './client-headers.js';
export {
  encodeHeaderValue,
  modernHeaders,
  modernVersionOf,
  paramHeaders,
  paramText,
  scanToolHeaders,
  X_MCP_HEADER,
} from './client-headers.js';
export type { LegacySseConnectionOptions } from './client-legacy-sse.js';
export { LegacySseConnection } from './client-legacy-sse.js';
export type { SseHandlers } from './client-sse.js';
export { mediaType, readBodyText, readSseStream } from './client-sse.js';
export type { FetchLike, ReconnectionOptions, StreamableHttpClientTransportOptions } from './client.js';
export { DEFAULT_RECONNECTION, StreamableHttpClientTransport } from './client.js';
