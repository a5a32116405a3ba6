/**
 * `anywire/http`: the Streamable HTTP binding, server side (Node fast path, web-standard handler,
 * the 2024-11-05 HTTP+SSE endpoints), both eras.
 * @module
 */
export { createNodeHandler, serveHttp } from './node.js';
export type { HttpServerHandle, NodeMcpHandler, ServeHttpOptions } from './node.js';
export { createWebHandler } from './web.js';
export type { WebMcpHandler } from './web.js';
export { StreamableHttpServer } from './handler.js';
export type { StreamableHttpOptions } from './handler.js';
export { DEFAULT_READY_TIMEOUT_MS } from './health.js';
export type { HealthOptions } from './health.js';
export type { HttpSecurityOptions } from '../shared/http-security.js';
export { decodeHeaderValue, encodeHeaderValue } from './mcp-headers.js';
export { DEFAULT_RECONNECTION, StreamableHttpClientTransport } from './client.js';
export type { FetchLike, ReconnectionOptions, StreamableHttpClientTransportOptions } from './client.js';
export { scanToolHeaders } from './client-headers.js';
export type { ParamHeaderDeclaration, ToolHeaderScan } from './client-headers.js';
export { createHttp2Fetch } from './http2-fetch.js';
export type { Http2Fetch, Http2FetchOptions } from './http2-fetch.js';
