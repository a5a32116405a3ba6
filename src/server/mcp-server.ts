/**
 * `McpServer`: one server definition (tools, resources, prompts, completions, logging) that serves
 * both protocol eras, on any number of connections and bindings at once.
 * @module
 */

import type { KeyRing, NotificationBus, ServerEvent } from '../protocol/stores.js';
import { InMemoryNotificationBus, StaticKeyRing } from '../protocol/stores.js';
import type { Transport } from '../protocol/transport.js';
import type { CacheHints, Implementation, JsonObject, ServerCapabilities } from '../protocol/types.js';
import type { JsonRpcRequest } from '../jsonrpc/types.js';
import type { HandlerContext, LegacySession, RequestScope } from './context.js';
import { dispatchRequest, handleClientNotification } from './dispatch.js';
import type { ListenSubscription } from './listen.js';
import type { PromptConfig, PromptEntry, PromptHandler, RegisteredPrompt } from './prompts.js';
import { makePromptEntry } from './prompts.js';
import type {
  RegisteredResource,
  ResourceEntry,
  ResourceHandler,
  ResourceMetadata,
  TemplateEntry,
  TemplateHandler,
} from './resources.js';
import { ResourceTemplate } from './resources.js';
import type { SchemaInput } from './schema.js';
import type { ServerConnectionOptions } from './server-connection.js';
import { ServerConnection } from './server-connection.js';
import type { RegisteredTool, ToolConfig, ToolEntry, ToolHandler } from './tools.js';
import { TaskRunner } from './tasks.js';
import type { TasksOptions } from './tasks.js';
import { makeToolEntry } from './tools.js';

/** Methods whose modern results carry caching hints (2026-07-28 server/utilities/caching). */
export type CacheableMethod =
  | 'server/discover'
  | 'tools/list'
  | 'prompts/list'
  | 'resources/list'
  | 'resources/templates/list'
  | 'resources/read';

/** Options of {@link McpServer}. */
export interface McpServerOptions {
  /** Instructions for the model, returned by `initialize` and `server/discover`. */
  instructions?: string;
  /** Extra capabilities merged over the ones derived from registrations. */
  capabilities?: ServerCapabilities;
  /** Which eras to serve. Default `both`. */
  eras?: 'both' | 'modern' | 'legacy';
  /** Items per page of list results. Default 100. */
  pageSize?: number;
  /** Caching hints per method. Default `{ ttlMs: 0, cacheScope: 'public' }` except where noted. */
  cacheHints?: Partial<Record<CacheableMethod, CacheHints>>;
  /** MRTR `requestState` sealing. Default: a random per-process key, 10 minute expiry, 8 rounds. */
  requestState?: { keyRing?: KeyRing; ttlMs?: number; maxRounds?: number };
  /** Fans out list_changed and resource updates (Redis-backed for several processes). Default in-memory. */
  notificationBus?: NotificationBus;
  /** Timeout in ms of server-to-client requests (legacy sampling, elicitation, roots). Default 60 000. */
  requestTimeoutMs?: number;
  /**
   * The 2025-11-25 experimental Tasks for `tools/call` (tools opt in with
   * `execution: { taskSupport: 'optional' | 'required' }`). Default: off.
   */
  tasks?: TasksOptions | boolean;
  /** Called when a legacy client sends `notifications/roots/list_changed`. */
  onRootsListChanged?: (session: LegacySession) => void;
}

/** A handler for a custom request method. */
export type CustomRequestHandler = (
  params: JsonObject,
  ctx: HandlerContext,
) => JsonObject | Promise<JsonObject>;

const DEFAULT_HINTS: CacheHints = { ttlMs: 0, cacheScope: 'public' };

/** One MCP server definition. */
export class McpServer {
  readonly info: Implementation;
  readonly options: McpServerOptions;
  /** @internal */ readonly tools = new Map<string, ToolEntry>();
  /** @internal */ readonly resources = new Map<string, ResourceEntry>();
  /** @internal */ readonly templates = new Map<string, TemplateEntry>();
  /** @internal */ readonly prompts = new Map<string, PromptEntry>();
  /** @internal */ readonly customHandlers = new Map<string, CustomRequestHandler>();
  /** @internal */ readonly sessions = new Set<LegacySession>();
  /** @internal */ readonly listens = new Set<ListenSubscription>();
  /** @internal */ readonly keyRing: KeyRing;
  readonly bus: NotificationBus;
  /** Runs task-augmented tool calls when `options.tasks` is on. */
  readonly taskRunner: TaskRunner | undefined;
  #connections = new Set<ServerConnection>();
  #pendingChanges = new Set<'tools' | 'prompts' | 'resources'>();
  #unsubscribe: () => void;
  #capabilities: ServerCapabilities | undefined;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];

  /**
   * @param info name and version reported as `serverInfo`
   * @param options see {@link McpServerOptions}
   */
  constructor(info: Implementation, options: McpServerOptions = {}) {
    this.info = info;
    this.options = options;
    this.keyRing = options.requestState?.keyRing ?? new StaticKeyRing();
    this.bus = options.notificationBus ?? new InMemoryNotificationBus();
    this.taskRunner = options.tasks ? new TaskRunner(options.tasks === true ? {} : options.tasks) : undefined;
    this.#unsubscribe = this.bus.subscribe((event) => this.#onEvent(event));
  }

  /** The capabilities this server declares (derived from registrations, merged with `options.capabilities`). */
  get capabilities(): ServerCapabilities {
    if (this.#capabilities) return this.#capabilities;
    const caps: ServerCapabilities = { logging: {} };
    if (this.tools.size) caps.tools = { listChanged: true };
    if (this.resources.size || this.templates.size) caps.resources = { subscribe: true, listChanged: true };
    if (this.prompts.size) caps.prompts = { listChanged: true };
    const completes =
      [...this.prompts.values()].some((p) => p.args.some((a) => a.complete)) ||
      [...this.templates.values()].some((t) => Object.keys(t.template.complete).length > 0);
    if (completes) caps.completions = {};
    if (this.taskRunner) caps.tasks = TaskRunner.capabilities();
    this.#capabilities = { ...caps, ...this.options.capabilities };
    return this.#capabilities;
  }

  /** Caching hints for a method's modern result. */
  cacheHints(method: CacheableMethod): CacheHints {
    return this.options.cacheHints?.[method] ?? DEFAULT_HINTS;
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
    if (this.tools.has(name)) throw new Error(`anywire: tool "${name}" is already registered`);
    let entry = makeToolEntry(name, config as ToolConfig, handler);
    this.tools.set(name, entry);
    this.#changed('tools');
    return {
      name,
      remove: () => {
        if (this.tools.get(name) === entry) {
          this.tools.delete(name);
          this.#changed('tools');
        }
      },
      update: (changes) => {
        const next = makeToolEntry(name, changes.config ?? entry.config, changes.handler ?? entry.handler);
        next.enabled = entry.enabled;
        entry = next;
        this.tools.set(name, entry);
        this.#changed('tools');
      },
      disable: () => {
        entry.enabled = false;
        this.#changed('tools');
      },
      enable: () => {
        entry.enabled = true;
        this.#changed('tools');
      },
      get enabled() {
        return entry.enabled;
      },
    };
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
    if (typeof uri === 'string') {
      if (this.resources.has(uri)) throw new Error(`anywire: resource "${uri}" is already registered`);
      const entry: ResourceEntry = {
        kind: 'static',
        name,
        uri,
        metadata,
        handler: handler as ResourceHandler,
        enabled: true,
      };
      this.resources.set(uri, entry);
      this.#changed('resources');
      return this.#handle(name, entry, () => this.resources.get(uri) === entry && this.resources.delete(uri));
    }
    if (!(uri instanceof ResourceTemplate))
      throw new TypeError('anywire: uri must be a string or a ResourceTemplate');
    if (this.templates.has(name))
      throw new Error(`anywire: resource template "${name}" is already registered`);
    const entry: TemplateEntry = {
      kind: 'template',
      name,
      template: uri,
      metadata,
      handler: handler as TemplateHandler,
      enabled: true,
    };
    this.templates.set(name, entry);
    this.#changed('resources');
    return this.#handle(name, entry, () => this.templates.get(name) === entry && this.templates.delete(name));
  }

  #handle(name: string, entry: ResourceEntry | TemplateEntry, drop: () => boolean): RegisteredResource {
    return {
      name,
      remove: () => {
        if (drop()) this.#changed('resources');
      },
      update: (changes) => {
        if (changes.metadata) entry.metadata = changes.metadata;
        if (changes.handler) entry.handler = changes.handler as any;
        this.#changed('resources');
      },
      disable: () => {
        entry.enabled = false;
        this.#changed('resources');
      },
      enable: () => {
        entry.enabled = true;
        this.#changed('resources');
      },
      get enabled() {
        return entry.enabled;
      },
    };
  }

  /**
   * Registers a prompt.
   * @throws Error when the name is taken
   */
  registerPrompt(name: string, config: PromptConfig, handler: PromptHandler): RegisteredPrompt {
    if (this.prompts.has(name)) throw new Error(`anywire: prompt "${name}" is already registered`);
    let entry = makePromptEntry(name, config, handler);
    this.prompts.set(name, entry);
    this.#changed('prompts');
    return {
      name,
      remove: () => {
        if (this.prompts.get(name) === entry) {
          this.prompts.delete(name);
          this.#changed('prompts');
        }
      },
      update: (changes) => {
        const next = makePromptEntry(name, changes.config ?? entry.config, changes.handler ?? entry.handler);
        next.enabled = entry.enabled;
        entry = next;
        this.prompts.set(name, entry);
        this.#changed('prompts');
      },
      disable: () => {
        entry.enabled = false;
        this.#changed('prompts');
      },
      enable: () => {
        entry.enabled = true;
        this.#changed('prompts');
      },
      get enabled() {
        return entry.enabled;
      },
    };
  }

  /** Handles a custom request method (both eras). Replaces any earlier handler for it. */
  setRequestHandler(method: string, handler: CustomRequestHandler): void {
    this.customHandlers.set(method, handler);
  }

  /**
   * Tells subscribers that a resource changed: legacy sessions subscribed with `resources/subscribe`
   * get `notifications/resources/updated`; modern listen streams that named the URI get it too.
   */
  notifyResourceUpdated(uri: string): void {
    void this.bus.publish({ type: 'resource_updated', uri });
  }

  /** Emits a list_changed event now (for lists computed outside the registries). */
  notifyListChanged(list: 'tools' | 'prompts' | 'resources'): void {
    void this.bus.publish({ type: 'list_changed', list });
  }

  /** Serves this definition on a transport (stdio, in-memory, a WebSocket, ...). */
  async connect(transport: Transport, options?: ServerConnectionOptions): Promise<ServerConnection> {
    const conn = new ServerConnection(this, transport, options);
    this.#connections.add(conn);
    conn.onclose = () => this.#connections.delete(conn);
    await conn.start();
    return conn;
  }

  /** Open connections. */
  get connections(): ReadonlySet<ServerConnection> {
    return this.#connections;
  }

  /** Closes every connection and stops listening to the bus. */
  async close(): Promise<void> {
    for (const l of [...this.listens]) l.end();
    await Promise.all([...this.#connections].map((c) => c.close()));
    this.#unsubscribe();
  }

  /**
   * Dispatches one request (bindings call this). Counted in {@link inFlight} except long-lived
   * `subscriptions/listen` streams.
   * @throws JsonRpcError with the spec's code for protocol-level failures
   */
  dispatch = (request: JsonRpcRequest, scope: RequestScope): Promise<JsonObject> => {
    if (request.method === 'subscriptions/listen') return dispatchRequest(this, request, scope);
    this.#inFlight++;
    return dispatchRequest(this, request, scope).finally(() => {
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

  /** @internal Handles one client notification (bindings call this). */
  notification = handleClientNotification.bind(null, this);

  #changed(list: 'tools' | 'prompts' | 'resources'): void {
    this.#capabilities = undefined;
    if (this.#pendingChanges.size === 0) {
      queueMicrotask(() => {
        const lists = [...this.#pendingChanges];
        this.#pendingChanges.clear();
        for (const l of lists) void this.bus.publish({ type: 'list_changed', list: l });
      });
    }
    this.#pendingChanges.add(list);
  }

  #onEvent(event: ServerEvent): void {
    if (event.type === 'list_changed') {
      const method = `notifications/${event.list}/list_changed`;
      for (const s of this.sessions) if (s.protocolVersion) s.notify(method).catch(() => {});
    } else if (event.type === 'resource_updated') {
      for (const s of this.sessions) {
        if (s.protocolVersion && s.subscriptions.has(event.uri)) {
          s.notify('notifications/resources/updated', { uri: event.uri }).catch(() => {});
        }
      }
    }
    for (const l of this.listens) l.deliver(event);
  }
}
