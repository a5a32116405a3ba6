/**
 * What the dispatcher and the built-in methods read of a server: a narrow view, so that neither
 * imports `McpServer` (no import cycles in the server layer).
 * @module
 */
import type { Era } from '../protocol/eras.js';
import type { KeyRing } from '../protocol/stores.js';
import type { CacheHints, Implementation, ServerCapabilities } from '../protocol/types.js';
import type { CacheableMethod, McpServerOptions } from './options.js';
import type { Registry } from './registry.js';
import type { MethodTable, Middleware } from './router.js';
import type { SessionHub } from './session-hub.js';

/** The state of one server, by owner. */
export interface ServerCore {
  readonly info: Implementation;
  readonly options: McpServerOptions;
  /** Tools, resources, templates, prompts. */
  readonly registry: Registry;
  /** Legacy sessions, listen streams, bus fan-out. */
  readonly hub: SessionHub;
  /** Seals MRTR `requestState`. */
  readonly keyRing: KeyRing;
  /** Every method, built-ins included. */
  readonly methods: MethodTable;
  /** The middleware chain, outermost first (replaced, never mutated, when middleware is added). */
  middleware: readonly Middleware[];
  /** Items per page of list results. */
  readonly pageSize: number;
  /** Capabilities declared in an era (`initialize` reads legacy, `server/discover` modern). */
  capabilities(era: Era): ServerCapabilities;
  /** Caching hints of a method's modern result. */
  cacheHints(method: CacheableMethod): CacheHints;
}
