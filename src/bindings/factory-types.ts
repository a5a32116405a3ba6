/**
 * The shapes of the binding registry's factories (in a file of their own, so the registry and the
 * factory tables import them without an import cycle).
 * @module
 */
import type { Authenticator } from '../protocol/auth.js';
import type { Transport } from '../protocol/transport.js';
import type { Servable } from '../server/servable.js';
import type { StdioServerParameters } from '../transports/stdio/client.js';

/** TLS and transport options of a served binding that come from flags rather than its URL. */
export interface BindingFlags {
  /** TLS certificate, a PEM file path. */
  tlsCert?: string;
  /** TLS private key, a PEM file path. */
  tlsKey?: string;
  /** CA bundle that signs client certificates, a PEM file path. */
  tlsCa?: string;
  /** Require and verify client certificates (mTLS). */
  mtls?: boolean;
  /** HTTP/2: h2c without TLS, h2 beside HTTP/1.1 with TLS. */
  http2?: boolean;
  /** Longest accepted message in bytes, on the bindings that have the limit. */
  maxMessageBytes?: number;
  /** Browser origins allowed on HTTP, with CORS headers (`*`: any). Default: none. */
  corsOrigins?: string[] | '*';
  /** Authenticates callers on every binding but stdio (e.g. `oauthResourceServer()` from `anywire/auth`). */
  authenticator?: Authenticator;
  /** HTTP: answers well-known requests (RFC 9728 protected resource metadata). */
  wellKnown?: (request: Request) => Response | undefined | Promise<Response | undefined>;
  /** HTTP: this node's id in the `/healthz` and `/readyz` bodies. Default `<hostname>-<pid>`. */
  nodeId?: string;
}

/** A started server binding. */
export interface StartedBinding {
  /** Table label, e.g. `streamable-http (h2c)`. */
  label: string;
  /** Where clients connect. */
  endpoint: string;
  /** Resolves when the binding ends by itself (stdin EOF); never for listeners. */
  ended: Promise<void>;
  /** Stops serving on this binding. */
  close(): Promise<void>;
}

/** Options of a client factory. */
export interface ClientFactoryOptions {
  /**
   * Request headers: HTTP headers, the WebSocket upgrade's headers, gRPC metadata, MQTT 5 user
   * properties. Ignored by stdio.
   */
  headers?: Record<string, string>;
  /** The command line of a stdio server (the `stdio` binding only). */
  command?: StdioServerParameters;
}

/** Starts `server` on the binding `url` names. @throws Error when it cannot listen */
export type ServerFactory = (server: Servable, url: URL, flags: BindingFlags) => Promise<StartedBinding>;
/** A new, unstarted client transport for `url`. @throws Error for a malformed URL */
export type ClientFactory = (url: URL, options: ClientFactoryOptions) => Promise<Transport>;
