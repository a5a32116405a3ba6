/**
 * Extensions: a unit that adds methods, middleware and advertised capabilities to an `McpServer`,
 * with background work that starts and stops with the server (`server.extend(extension)`). The
 * 2025-11-25 experimental Tasks are one (src/server/extensions/tasks/).
 * @module
 */
import type { Era } from '../protocol/eras.js';
import type { NotificationBus, Stores } from '../protocol/stores.js';
import type { Implementation, JsonObject, ServerCapabilities, Tool } from '../protocol/types.js';
import type { MethodHandler, Middleware } from './router.js';

/** A tool as an extension sees it. */
export interface ToolView {
  readonly name: string;
  /** What `tools/list` shows (`execution.taskSupport` included). */
  readonly listing: Tool;
  /** False while the tool is disabled (it is then neither listed nor callable). */
  readonly enabled: boolean;
}

/** What an extension's `start` receives. */
export interface ExtensionHost {
  /** The server's `serverInfo`. */
  readonly info: Implementation;
  /** The server's notification bus (fan-out across instances). */
  readonly bus: NotificationBus;
  /**
   * The server's shared stores (`{}` when none): an extension given no store of its own uses the one
   * here (read it in `start`, not before: a binding may inject stores after the extension was built).
   */
  readonly stores: Stores;
  /** The registered tools, by name (live). */
  readonly tools: ReadonlyMap<string, ToolView>;
  /** Reports a non-fatal error through the server's `onerror`. */
  reportError(error: unknown): void;
}

/** An extension (see {@link McpServer.extend}). */
export interface Extension {
  /** A unique name, e.g. `io.example/audit`; also the key under `capabilities.extensions`. */
  readonly name: string;
  /** The eras its methods and advertisement apply to. Default: both. */
  readonly eras?: readonly Era[];
  /**
   * Methods it adds (or wraps: a handler's third argument is the handler it replaced, built-ins
   * included). Registered in the order given.
   */
  readonly methods?: Readonly<Record<string, MethodHandler>>;
  /** Capabilities merged (shallowly) into what `initialize` and `server/discover` declare. */
  readonly capabilities?: ServerCapabilities;
  /**
   * Settings advertised under `capabilities.extensions[name]` (2026-07-28 extensions negotiation);
   * `{}` when only its presence matters.
   */
  readonly settings?: JsonObject;
  /** Middleware appended to the server's chain (after what `server.use` installed so far). */
  readonly middleware?: Middleware | readonly Middleware[];
  /**
   * Starts background work. Runs once, before the server handles its first request or connection
   * (or at `extend` when the server already runs); a rejection fails that first request.
   */
  start?(host: ExtensionHost): void | Promise<void>;
  /** Stops background work; runs on `server.close()`, in reverse order of `extend`. */
  stop?(): void | Promise<void>;
}
