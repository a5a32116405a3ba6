/**
 * `anywire serve <module> --stdio`: serves a server module on stdio. stdout carries only protocol
 * messages; everything human goes to stderr.
 * @module
 */
import { StdioServerTransport } from '../transports/stdio/server.js';
import { loadServerModule } from './load-module.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  stdio?: boolean;
  /** Longest accepted stdio line in bytes. */
  maxMessageBytes?: number;
}

/** Serves `modulePath` until stdin ends; resolves then. */
export async function serve(modulePath: string, options: ServeOptions): Promise<void> {
  const server = await loadServerModule(modulePath);
  if (options.stdio === false) throw new Error('anywire: no binding selected (use --stdio)');
  const transport = new StdioServerTransport({ maxMessageBytes: options.maxMessageBytes });
  const conn = await server.connect(transport);
  conn.onerror = (e) => process.stderr.write(`anywire: ${e.message}\n`);
  process.stderr.write(`anywire: serving ${server.info.name} ${server.info.version} on stdio\n`);
  await conn.closed;
  await server.close();
}
