/**
 * `anywire/cli`: the command line's functions, for embedding and tests.
 * @module
 */

export type { ClientCommandOptions } from './commands.js';
export { buildArguments, callCommand, listCommand, readCommand } from './commands.js';
export { loadServerModule } from './load-module.js';
export type { ServeModuleContext } from './load-module.js';
export { main, splitArgv } from './main.js';
export type { ServeOptions } from './serve.js';
export { bindingUrls, serve } from './serve.js';
export { parseAddress, printEndpoints, registerBinding, startBinding } from './bindings.js';
export type { BindingFlags, BindingStarter, StartedBinding } from './bindings.js';
export { bridge } from './bridge.js';
export type { BridgeOptions } from './bridge.js';
export type { Target } from './target.js';
export { connectTarget, looksLikeUrl, transportFor } from './target.js';
