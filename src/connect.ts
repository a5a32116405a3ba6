/**
 * `anywire/connect`: a client transport for any target named by URL, on any binding of the binding
 * registry: `http(s)://`, `ws(s)://`, `tcp://`, `tls://`, `unix:/path`, `grpc(s)://`,
 * `mqtt(s)://broker/<server>`, or a stdio command line. TLS material for `tls:`, `wss:`, `grpcs:` and
 * `mqtts:` comes from the URL's query: `?ca=FILE&cert=FILE&key=FILE&servername=NAME` (PEM files).
 * A URL binding's code is imported when its transport starts, so a program that connects over one
 * binding never loads the others. Node only.
 * @module
 */
import { bindingFor } from './bindings/registry.js';
import { LazyTransport } from './bindings/lazy-transport.js';
import { Client } from './client/client.js';
import type { ClientOptions } from './client/client.js';
import type { Transport } from './protocol/transport.js';
import type { Implementation } from './protocol/types.js';
import { StdioClientTransport } from './transports/stdio/client.js';
import type { StdioServerParameters } from './transports/stdio/client.js';

export { clientTls } from './bindings/clients.js';
export { describeSchemes, supportedSchemes } from './bindings/registry.js';

/** A target: a URL, or a stdio server's command line. */
export type TargetSpec = string | URL | StdioServerParameters;

/** Options of {@link transportForUrl}. */
export interface TargetOptions {
  /**
   * Request headers (e.g. `authorization`): HTTP headers, the WebSocket upgrade's headers, gRPC
   * metadata, or MQTT 5 user properties. Ignored for stdio (use the environment).
   */
  headers?: Record<string, string>;
}

/**
 * A new (unstarted) client transport for `target`: a `StdioClientTransport` for a command line;
 * for a URL, a transport that imports its binding and builds the binding's own transport on
 * `start()` (so a bad TLS file or URL shows there).
 * @throws Error naming the supported schemes for a scheme no binding serves
 */
export function transportForUrl(target: TargetSpec, options: TargetOptions = {}): Transport {
  const headers = options.headers && Object.keys(options.headers).length ? options.headers : undefined;
  if (typeof target === 'object' && !(target instanceof URL)) return new StdioClientTransport(target);
  const url = new URL(String(target)); // a copy: the TLS query is consumed by the factory
  let binding;
  try {
    binding = bindingFor(url);
  } catch (e) {
    throw new Error(`anywire: ${(e as Error).message}`);
  }
  const factory = binding.client;
  if (!factory) throw new Error(`anywire: the ${binding.name} binding has no client`);
  return new LazyTransport(() => factory(url, { headers }), binding.clientBinding[url.protocol]);
}

/** Connects a new `Client` to `target` (era settled by probing). */
export async function connect(
  target: TargetSpec,
  info?: Implementation,
  options?: ClientOptions,
): Promise<Client> {
  const client = new Client(info ?? { name: 'anywire-client', version: '0.1.0' }, options);
  await client.connect(transportForUrl(target));
  return client;
}
