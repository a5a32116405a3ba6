/**
 * `anywire/stdio`: the stdio binding (Node only).
 * @module
 */

export type { StdioServerParameters } from './client.js';
export { DEFAULT_INHERITED_ENV_VARS, getDefaultEnvironment, StdioClientTransport } from './client.js';
export type { StdioServerTransportOptions } from './server.js';
export { guardStdout, StdioServerTransport } from './server.js';
