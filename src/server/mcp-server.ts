/**
 * `McpServer`: one server definition (tools, resources, prompts, completions, logging) that serves
 * both protocol eras, on any number of connections and bindings at once. Its state is split by
 * owner: the {@link Registry} (what is registered), the {@link SessionHub} (who is connected), and
 * the router (method table, middleware, extensions).
 * @module
 */

import type { JsonRpcRequest } from '../jsonrpc/types.js';
import type { Era } from '../protocol/eras.js';
import type { KeyRing, NotificationBus, Stores } from '../protocol/stores.js';
import { InMemoryNotificationBus, StaticKeyRing } from '../protocol/stores.js';
import type { Transport } from '../protocol/transport.js';
import type { CacheHints, Implementation, JsonObject, ServerCapabilities } from '../protocol/types.js';
import type { RequestScope } from './context.js';
import type { ServerCore } from './core.js';
import { dispatchRequest, handleClientNotification } from './dispatch.js';
import { watchHub } from '../telemetry/instruments.js';
import { sessionClosed, sessionOpened } from '../telemetry/sessions.js';
import type { Extension, ExtensionHost, ToolView } from './extension.js';
import type { TasksExtension } from './extensions/tasks/extension.js';
import { createTasksExtension } from './extensions/tasks/extension.js';
import type { TaskRunner } from './extensions/tasks/runner.js';
import { registerCatalogMethods } from './methods/catalog.js';
import { registerSessionMethods } from './methods/session.js';
import { announcedCapabilities } from './listen.js';
import type { CacheableMethod, McpServerOptions } from './options.js';
import { DEFAULT_CACHE_HINTS, DEFAULT_PAGE_SIZE, validateServerOptions } from './options.js';
import type { PromptConfig, PromptHandler, RegisteredPrompt } from './prompts.js';
import { Registry } from './registry.js';
import type { RegisteredResource, ResourceHandler, ResourceMetadata, TemplateHandler } from './resources.js';
import type { ResourceTemplate } from './resources.js';
import type { MethodHandler, Middleware } from './router.js';
import { BOTH_ERAS, MethodTable } from './router.js';
import type { SchemaInput } from './schema.js';
import type { ServerConnectionOptions } from './server-connection.js';
import { ServerConnection } from './server-connection.js';
import { SessionHub } from './session-hub.js';
import type { RegisteredTool, ToolConfig, ToolHandler } from './tools.js';

export type { CacheableMethod, McpServerOptions } from './options.js';

/**
 * A handler for a request method (both eras). `previous` is what it replaced (a built-in such as
 * `tools/call`, or an earlier handler); call it to wrap instead of replace.
 */
export type CustomRequestHandler = MethodHandler;

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** One MCP server definition. */
export class McpServer {
  readonly info: Implementation;
  readonly options: McpServerOptions;
  #stores: Stores;
  #served = false;
  #defaultBus: NotificationBus | undefined;
  #defaultKeyRing: KeyRing | undefined;
  #registry: Registry;
  #hub: SessionHub;
  #methods = new MethodTable();
  #extensions: Extension[] = [];
  #unstarted: Extension[] = [];
  #startedExtensions: Extension[] = [];
  #ready = true;
  #starting: Promise<void> | undefined;
  #tasks: TasksExtension | undefined;
  #core: ServerCore;
  #host: ExtensionHost;
  #connections = new Set<ServerConnection>();
  #capsBase: ServerCapabilities | undefined;
  #caps: Partial<Record<Era, ServerCapabilities>> = {};
  #inFlight = 0;
  #warnedSubscriptions = false;
  #idleWaiters: (() => void)[] = [];

  /**
   * @param info name and version reported as `serverInfo`
   * @param options see {@link McpServerOptions}
   * @throws RangeError when a numeric option is out of range (the message names it and its range)
   */
  constructor(info: Implementation, options: McpServerOptions = {}) {
    validateServerOptions(options);
    this.info = info;
    this.options = options;
    this.#stores = options.stores ?? {};
    const report = (error: unknown) => this.#report(error);
    this.#hub = new SessionHub(this.#resolveBus(), report);
    // Legacy sessions hear a list change only where `listChanged` is declared (options.listChanged).
    this.#hub.announces = (list) => this.#capabilitiesFor('legacy')[list]?.listChanged === true;
    watchHub(this.#hub);
    this.#registry = new Registry((list) => this.#hub.publish({ type: 'list_changed', list }));
    const keyRing = () => this.#resolveKeyRing();
    this.#core = {
      info,
      options,
      registry: this.#registry,
      hub: this.#hub,
      get keyRing() {
        return keyRing();
      },
      methods: this.#methods,
      middleware: [],
      pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
      capabilities: (era) => this.#capabilitiesFor(era),
      cacheHints: (method) => this.cacheHints(method),
    };
    const hub = this.#hub;
    const stores = () => this.#stores;
    this.#host = {
      info,
      get bus() {
        return hub.bus;
      },
      get stores() {
        return stores();
      },
      tools: this.#registry.tools,
      reportError: report,
    };
    registerSessionMethods(this.#core);
    registerCatalogMethods(this.#core);
    if (options.tasks) {
      this.#tasks = createTasksExtension(options.tasks === true ? {} : options.tasks);
      this.extend(this.#tasks);
    }
  }

  /**
   * Fans out list changes and resource updates: `options.notificationBus`, else
   * `stores.notificationBus`, else an in-memory bus.
   */
  get bus(): NotificationBus {
    return this.#hub.bus;
  }

  /** The shared stores in use (`options.stores` or {@link useStores}); `{}` when none were given. */
  get stores(): Stores {
    return this.#stores;
  }

  /**
   * Switches the shared stores (see {@link Stores}): the notification bus, the `requestState` key
   * ring, the default task store of both Tasks extensions and serveHttp's default event store. An
   * explicit option (`notificationBus`, `requestState.keyRing`, `tasks.store`, `eventStore`) still
   * wins. Call it before the server is first started, connected or dispatched to (a binding built
   * around the server earlier picks the stores up at its first request); the server never closes
   * the stores.
   * @throws Error when the server was already started or served
   */
  useStores(stores: Stores): this {
    if (this.#served)
      throw new Error(
        'McpServer.useStores: the server was already started or served; call useStores before connect, serve or the first request',
      );
    if (typeof stores !== 'object' || stores === null)
      throw new TypeError('McpServer.useStores: stores must be an object');
    this.#stores = stores;
    this.#hub.setBus(this.#resolveBus());
    return this;
  }

  /** The capabilities `initialize` declares: derived from registrations and extensions, merged with `options.capabilities`. */
  get capabilities(): ServerCapabilities {
    return this.#capabilitiesFor('legacy');
  }

  /** The registered tools by name (what bindings read to check `Mcp-Param-*` headers). */
  get tools(): ReadonlyMap<string, ToolView> {
    return this.#registry.tools;
  }

  /** The runner of the 2025-11-25 tasks when `options.tasks` is on. */
  get taskRunner(): TaskRunner | undefined {
    return this.#tasks?.runner;
  }

  /** Caching hints for a method's modern result. */
  cacheHints(method: CacheableMethod): CacheHints {
    return this.options.cacheHints?.[method] ?? DEFAULT_CACHE_HINTS;
  }

  /**
   * Registers a tool. Registering after clients connected emits `notifications/tools/list_changed`
   * (legacy sessions) and the matching `subscriptions/listen` event (modern).
   * @throws Error when a tool with this name exists
   */
  registerTool<In extends SchemaInput | undefined = undefined>(
    name: string,
    config: ToolConfig<In>,
    handler: ToolHandler<In>,
  ): RegisteredTool {
    return this.#registry.registerTool(name, config as ToolConfig, handler);
  }

  /**
   * Registers a static resource (`uri` a string) or a template (`uri` a {@link ResourceTemplate}).
   * @throws Error when the name is taken
   */
  registerResource(
    name: string,
    uri: string,
    metadata: ResourceMetadata,
    handler: ResourceHandler,
  ): RegisteredResource;
  registerResource(
    name: string,
    uri: ResourceTemplate,
    metadata: ResourceMetadata,
    handler: TemplateHandler,
  ): RegisteredResource;
  registerResource(
    name: string,
    uri: string | ResourceTemplate,
    metadata: ResourceMetadata,
    handler: ResourceHandler | TemplateHandler,
  ): RegisteredResource {
    return this.#registry.registerResource(name, uri, metadata, handler);
  }

  /**
   * Registers a prompt.
   * @throws Error when the name is taken
   */
  registerPrompt(name: string, config: PromptConfig, handler: PromptHandler): RegisteredPrompt {
    return this.#registry.registerPrompt(name, config, handler);
  }

  /**
   * Handles a request method in both eras: a new method, or a built-in one (`tools/call`,
   * `resources/read`, ...) replaced or wrapped (the handler's third argument is the one it replaced).
   * @returns a function that restores what was there before
   */
  setRequestHandler(method: string, handler: CustomRequestHandler): () => void {
    return this.#methods.register(method, handler);
  }

  /**
   * Adds a middleware, `(ctx, next) => Promise<result>`, around every method (built-in, custom and
   * extension methods, unknown ones too) in both eras on every binding. Middleware runs in the
   * order added, outermost first. See {@link Middleware} for what it may throw.
   */
  use(middleware: Middleware): this {
    if (typeof middleware !== 'function') throw new TypeError('McpServer.use: middleware must be a function');
    this.#core.middleware = [...this.#core.middleware, middleware];
    return this;
  }

  /**
   * Installs an extension: its methods (in its eras), its middleware (after what is installed),
   * and the capabilities and `capabilities.extensions[name]` settings it advertises in `initialize`
   * and `server/discover`. Its `start()` runs before the next request or connection is served; its
   * `stop()` on {@link close}.
   * @throws Error when an extension of this name is installed
   */
  extend(extension: Extension): this {
    if (this.#extensions.some((e) => e.name === extension.name))
      throw new Error(`McpServer.extend: extension "${extension.name}" is already installed`);
    const eras = extension.eras ?? BOTH_ERAS;
    for (const [method, handler] of Object.entries(extension.methods ?? {}))
      this.#methods.register(method, handler, eras);
    const mw = extension.middleware;
    if (mw) this.#core.middleware = [...this.#core.middleware, ...(typeof mw === 'function' ? [mw] : mw)];
    this.#extensions.push(extension);
    this.#caps = {};
    if (extension.start) {
      this.#unstarted.push(extension);
      this.#ready = false;
    } else this.#startedExtensions.push(extension);
    return this;
  }

  /** Runs the `start()` of every installed extension not started yet (done for you before serving). */
  start(): Promise<void> {
    this.#served = true;
    if (this.#ready) return Promise.resolve();
    this.#starting ??= (async () => {
      try {
        while (this.#unstarted.length) {
          const next = this.#unstarted[0]!;
          await next.start?.(this.#host);
          this.#unstarted.shift();
          this.#startedExtensions.push(next);
        }
        this.#ready = true;
      } finally {
        this.#starting = undefined;
      }
    })();
    return this.#starting;
  }

  /**
   * Tells subscribers that a resource changed: legacy sessions subscribed with `resources/subscribe`
   * get `notifications/resources/updated`; modern listen streams that named the URI get it too.
   * A bus that fails is reported to `options.onerror`, never thrown.
   */
  notifyResourceUpdated(uri: string): void {
    if (!this.#warnedSubscriptions && !this.#capabilitiesFor('modern').resources?.subscribe) {
      this.#warnedSubscriptions = true;
      this.#report(
        new Error(
          'McpServer.notifyResourceUpdated: resource subscriptions are not offered, so no client hears this update (set the option resourceSubscriptions: true)',
        ),
      );
    }
    this.#hub.publish({ type: 'resource_updated', uri });
  }

  /** Open `subscriptions/listen` streams (at most `options.maxListenStreams`). */
  get listenStreams(): number {
    return this.#hub.listens.size;
  }

  /** Emits a list_changed event now (for lists computed outside the registries). */
  notifyListChanged(list: 'tools' | 'prompts' | 'resources'): void {
    this.#hub.publish({ type: 'list_changed', list });
  }

  /** Serves this definition on a transport (stdio, in-memory, a WebSocket, ...). */
  async connect(transport: Transport, options?: ServerConnectionOptions): Promise<ServerConnection> {
    await this.start();
    const conn = new ServerConnection(
      {
        dispatch: this.dispatch,
        notification: (n, session) => handleClientNotification(this.#core, n, session),
        sessionClosed: (session) => {
          this.#hub.sessions.delete(session);
          sessionClosed(session, {
            side: 'server',
            era: 'legacy',
            protocolVersion: session.protocolVersion,
            binding: transport.binding,
          });
        },
        sessionInitialized: (session) => {
          this.#hub.sessions.add(session);
          sessionOpened(session);
        },
        requestTimeoutMs: this.options.requestTimeoutMs,
      },
      transport,
      options,
    );
    this.#connections.add(conn);
    conn.onclose = () => this.#connections.delete(conn);
    await conn.start();
    return conn;
  }

  /** Open connections. */
  get connections(): ReadonlySet<ServerConnection> {
    return this.#connections;
  }

  /**
   * Closes every connection, stops hearing the bus, then runs every started extension's `stop()`
   * (in reverse order; a failing one is reported to `options.onerror` and the others still run).
   */
  async close(): Promise<void> {
    this.#hub.close();
    await Promise.all([...this.#connections].map((c) => c.close()));
    for (const e of this.#startedExtensions.splice(0).reverse()) {
      try {
        await e.stop?.();
      } catch (error) {
        this.#report(error);
      }
    }
  }

  /**
   * Dispatches one request (bindings call this). Counted in {@link inFlight} except long-lived
   * `subscriptions/listen` streams.
   * @throws JsonRpcError with the spec's code for protocol-level failures; an `AuthError` from
   * middleware, unchanged
   */
  dispatch = (request: JsonRpcRequest, scope: RequestScope): Promise<JsonObject> => {
    this.#served = true;
    if (!this.#ready) return this.start().then(() => this.dispatch(request, scope));
    if (request.method === 'subscriptions/listen') return dispatchRequest(this.#core, request, scope);
    this.#inFlight++;
    return dispatchRequest(this.#core, request, scope).finally(() => {
      if (--this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w();
    });
  };

  /** Requests being handled right now (listen streams excluded). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when no request is being handled (for graceful shutdown). */
  whenIdle(): Promise<void> {
    return this.#inFlight === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #resolveBus(): NotificationBus {
    const chosen = this.options.notificationBus ?? this.#stores.notificationBus;
    return chosen ?? (this.#defaultBus ??= new InMemoryNotificationBus());
  }

  #resolveKeyRing(): KeyRing {
    const chosen = this.options.requestState?.keyRing ?? this.#stores.keyRing;
    return chosen ?? (this.#defaultKeyRing ??= new StaticKeyRing());
  }

  #capabilitiesFor(era: Era): ServerCapabilities {
    const base = this.#registry.capabilities();
    if (base !== this.#capsBase) {
      this.#capsBase = base;
      this.#caps = {};
    }
    const cached = this.#caps[era];
    if (cached) return cached;
    const caps: ServerCapabilities = announcedCapabilities(base, this.options);
    for (const e of this.#extensions) {
      if (!(e.eras ?? BOTH_ERAS).includes(era)) continue;
      if (e.capabilities) Object.assign(caps, e.capabilities);
      if (e.settings) caps.extensions = { ...caps.extensions, [e.name]: e.settings };
    }
    const merged = { ...caps, ...this.options.capabilities };
    this.#caps[era] = merged;
    return merged;
  }

  #report(error: unknown): void {
    const onerror = this.options.onerror;
    if (onerror) {
      try {
        onerror(toError(error));
      } catch {
        // an onerror that throws has nowhere else to report to
      }
    } else {
      // No onerror: a process warning on stderr where there is a process (never stdout).
      const proc = (globalThis as { process?: { emitWarning?: (w: Error) => void } }).process;
      proc?.emitWarning?.(toError(error));
    }
  }
}
