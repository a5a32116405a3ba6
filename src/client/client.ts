/**
 * `Client`: talks to any MCP server in either era. On connect it probes with `server/discover`
 * (2026-07-28 basic/transports/stdio "era probe") and falls back to `initialize` on anything but a
 * modern answer, then caches the verdict. Server-to-client requests (legacy) and multi round-trip
 * `inputRequests` (modern) are answered by the same handlers.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import type { LogLevel } from '../protocol/constants.js';
import {
  LATEST_LEGACY_PROTOCOL_VERSION,
  LEGACY_PROTOCOL_VERSIONS,
  META,
  MODERN_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
  MRTR_METHODS,
} from '../protocol/constants.js';
import { McpError } from '../protocol/errors.js';
import type { Progress, RequestOptions } from '../protocol/peer.js';
import { observeClientRequest, telemetryActive } from '../telemetry/observe.js';
import { sessionClosed, sessionOpened } from '../telemetry/sessions.js';
import type { TaskChannel, TaskFollowOptions, TaskHandle, TaskState } from './tasks.js';
import { followTask, TASKS_EXTENSION, taskHandle } from './tasks.js';
import { Peer } from '../protocol/peer.js';
import type { Transport } from '../protocol/transport.js';
import type {
  CallToolResult,
  ClientCapabilities,
  CompleteResult,
  CompletionReference,
  CreateMessageParams,
  CreateMessageResult,
  ElicitParams,
  ElicitResult,
  GetPromptResult,
  Implementation,
  InputRequest,
  JsonObject,
  ListenFilter,
  ListRootsResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplateInfo,
  Root,
  ServerCapabilities,
  Tool,
} from '../protocol/types.js';

/** Context passed to client handlers. */
export interface ClientRequestContext {
  /** Aborts when the server cancels (legacy) or the connection closes. */
  signal: AbortSignal;
  /** `request` for a legacy server-to-client request, `input` for a modern `inputRequests` entry. */
  via: 'request' | 'input';
}

/** Handlers that answer the server's requests for client features. Declaring one declares the capability. */
export interface ClientHandlers {
  sampling?: (
    params: CreateMessageParams,
    ctx: ClientRequestContext,
  ) => CreateMessageResult | Promise<CreateMessageResult>;
  elicitation?: (params: ElicitParams, ctx: ClientRequestContext) => ElicitResult | Promise<ElicitResult>;
  roots?: (ctx: ClientRequestContext) => Root[] | ListRootsResult | Promise<Root[] | ListRootsResult>;
}

/** Options of {@link Client}. */
export interface ClientOptions {
  /** Extra capabilities merged over the ones derived from `handlers`. */
  capabilities?: ClientCapabilities;
  handlers?: ClientHandlers;
  /** `auto` probes (default); `modern` or `legacy` skip the probe. */
  era?: 'auto' | 'modern' | 'legacy';
  /** Legacy version offered in `initialize`. Default 2025-11-25. */
  legacyProtocolVersion?: string;
  /** Time in ms to wait for the `server/discover` probe before assuming a legacy server. Default 5000. */
  probeTimeoutMs?: number;
  /** Default per-request timeout in ms. Default 60 000. */
  requestTimeoutMs?: number;
  /** Maximum multi round-trip rounds for one call. Default 8. */
  maxInputRounds?: number;
  /** Modern: log level sent in every request's `_meta`; legacy: sent with `logging/setLevel` after connecting. */
  logLevel?: LogLevel;
  /** Receives `notifications/message` (server logs). */
  onlog?: (params: { level: string; logger?: string; data: unknown }) => void;
  /** Receives every other server notification. */
  onnotification?: (notification: JsonRpcNotification) => void;
  /**
   * Receives non-fatal errors of the connection: what the transport skipped or dropped (e.g. a tool
   * removed from `tools/list` for invalid `x-mcp-header` annotations, an unparseable SSE event) and
   * error responses without an id.
   */
  onerror?: (error: Error) => void;
  /**
   * The 2026-07-28 Tasks extension: declared in every modern request (default true), so the server may
   * answer `tools/call` with a task, which `callTool` follows to the end. `false` declares nothing.
   */
  tasks?: boolean;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Timeout in ms. Default: the client's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Restart the timeout on each progress notification. Default true when `onprogress` is set. */
  resetTimeoutOnProgress?: boolean;
  /** Hard cap in ms even with progress. */
  maxTotalTimeoutMs?: number;
  /** Receives progress notifications (sets `_meta.progressToken`). */
  onprogress?: (progress: Progress) => void;
  /** Extra `_meta` for the request. */
  meta?: JsonObject;
  /** Answer `input_required` results through the handlers and retry (default true); false returns them as is. */
  fulfilInputs?: boolean;
  /** `callTool` on a task: receives each state observed (status and `statusMessage`). */
  ontask?: (task: TaskState) => void;
}

/** An open `subscriptions/listen` stream (or its legacy emulation). */
export interface Subscription {
  /**
   * What the server agreed to send. Empty when it honours nothing: the server then ends the stream
   * at once (2026-07-28 basic/patterns/subscriptions) and {@link Subscription.ended} settles.
   */
  readonly granted: ListenFilter;
  /**
   * Settles when the stream is over, and the client then holds nothing for it: resolves when the
   * server ends it with its result (at once when {@link Subscription.granted} is empty) or after
   * {@link Subscription.close}; rejects with the `JsonRpcError` the server ended it with, or the
   * local error that cut it (e.g. the connection closed). A listen the server refuses outright
   * (-32005 `ListenStreamLimit` from `maxListenStreams`) never gets here: `listen()` rejects. Legacy
   * emulation: settles on `close()` or when the connection closes. Never an unhandled rejection when
   * left unobserved.
   */
  readonly ended: Promise<void>;
  /** Ends the subscription (nothing is sent when the server has ended it already). */
  close(): Promise<void>;
}

/** A legacy emulation of a listen: the session's notifications it wants, and how it ends. */
interface LegacyListen {
  filter: ListenFilter;
  handler: (n: JsonRpcNotification) => void;
  end: () => void;
}

/** An MCP client. */
export class Client {
  readonly info: Implementation;
  readonly options: ClientOptions;
  #peer: Peer | undefined;
  #era: 'modern' | 'legacy' | undefined;
  #protocolVersion: string | undefined;
  #serverInfo: Implementation | undefined;
  #serverCapabilities: ServerCapabilities = {};
  #instructions: string | undefined;
  #modernMeta: JsonObject | undefined;
  #listeners = new Map<string | number, (n: JsonRpcNotification) => void>();
  #legacyListens = new Set<LegacyListen>();

  constructor(info: Implementation, options: ClientOptions = {}) {
    this.info = info;
    this.options = options;
  }

  /** The capabilities this client declares. */
  get capabilities(): ClientCapabilities {
    const h = this.options.handlers ?? {};
    const caps: ClientCapabilities = {};
    if (h.sampling) caps.sampling = {};
    if (h.elicitation) caps.elicitation = { form: {}, url: {} };
    if (h.roots) caps.roots = { listChanged: true };
    return { ...caps, ...this.options.capabilities };
  }

  /** `modern` or `legacy`, once connected. */
  get era(): 'modern' | 'legacy' | undefined {
    return this.#era;
  }
  /** The protocol revision in use. */
  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }
  /** The server's `serverInfo`. */
  get serverInfo(): Implementation | undefined {
    return this.#serverInfo;
  }
  /** The server's capabilities. */
  get serverCapabilities(): ServerCapabilities {
    return this.#serverCapabilities;
  }
  /** The server's instructions, if any. */
  get instructions(): string | undefined {
    return this.#instructions;
  }

  /**
   * Connects over `transport` and settles the era (probe, then `initialize` if needed).
   * @throws JsonRpcError when `initialize` fails; McpError `PROTOCOL_ERROR` when the server offers no common version
   */
  async connect(transport: Transport, options: { signal?: AbortSignal } = {}): Promise<void> {
    const peer = new Peer(
      transport,
      {
        onrequest: (r, call) => this.#onrequest(r, call.signal),
        onnotification: (n) => this.#onnotification(n),
        onerror: (error) => this.options.onerror?.(error),
        onclose: () => this.#endLegacyListens(),
      },
      { requestTimeoutMs: this.options.requestTimeoutMs },
    );
    this.#peer = peer;
    await peer.start();
    sessionOpened(peer);
    const era = this.options.era ?? 'auto';
    if (era !== 'legacy' && (await this.#probe(peer, era === 'modern', options.signal))) return;
    await this.#initialize(peer, options.signal);
  }

  async #probe(peer: Peer, required: boolean, signal?: AbortSignal): Promise<boolean> {
    const tryVersion = async (version: string): Promise<JsonObject> =>
      this.#send(
        peer,
        'server/discover',
        { _meta: this.#metaFor(version) },
        {
          signal,
          timeoutMs: this.options.probeTimeoutMs ?? 5000,
        },
      );
    let result: JsonObject;
    try {
      result = await tryVersion(MODERN_PROTOCOL_VERSION);
    } catch (error) {
      const supported = (error as JsonRpcError).data as { supported?: unknown } | undefined;
      const modernError =
        error instanceof JsonRpcError &&
        (error.code === ErrorCode.UnsupportedProtocolVersion ||
          error.code === ErrorCode.HeaderMismatch ||
          error.code === ErrorCode.MissingRequiredClientCapability);
      if (
        modernError &&
        error.code === ErrorCode.UnsupportedProtocolVersion &&
        Array.isArray(supported?.supported)
      ) {
        const common = MODERN_PROTOCOL_VERSIONS.find((v) => (supported!.supported as unknown[]).includes(v));
        if (common) result = await tryVersion(common);
        else if (required)
          throw new McpError('PROTOCOL_ERROR', 'the server speaks no modern revision this client knows');
        else return false;
      } else if (required || modernError || !this.#legacyVerdict(peer, error)) {
        throw error;
      } else return false;
    }
    const versions = Array.isArray(result.supportedVersions) ? (result.supportedVersions as string[]) : [];
    const version = MODERN_PROTOCOL_VERSIONS.find((v) => versions.includes(v));
    if (!version) {
      if (required)
        throw new McpError(
          'PROTOCOL_ERROR',
          `server/discover offered no common modern version (${versions.join(', ')})`,
        );
      return false;
    }
    this.#era = 'modern';
    this.#protocolVersion = version;
    this.#modernMeta = this.#metaFor(version);
    this.#serverCapabilities = (result.capabilities as ServerCapabilities) ?? {};
    this.#serverInfo = (result._meta as JsonObject | undefined)?.[META.serverInfo] as
      Implementation | undefined;
    this.#instructions = result.instructions as string | undefined;
    return true;
  }

  /**
   * Whether a failed probe means "legacy server" (digest section 11): any JSON-RPC error; a 4xx
   * without a modern error body; a timeout on a local process. Auth failures (401/403), network
   * errors and HTTP timeouts are errors, not verdicts.
   */
  #legacyVerdict(peer: Peer, error: unknown): boolean {
    if (error instanceof JsonRpcError) return true;
    if (!(error instanceof McpError)) return false;
    if (error.code === 'HTTP_ERROR')
      return error.status !== 401 && error.status !== 403 && (error.status ?? 0) < 500;
    // Silence from a local process means a legacy server; from a network service, an outage.
    if (error.code === 'REQUEST_TIMEOUT')
      return peer.transport.binding === 'stdio' || peer.transport.binding === undefined;
    return false;
  }

  #metaFor(version: string): JsonObject {
    const caps = this.capabilities;
    const declared =
      this.options.tasks === false
        ? caps
        : { ...caps, extensions: { ...(caps.extensions as JsonObject | undefined), [TASKS_EXTENSION]: {} } };
    const meta: JsonObject = {
      [META.protocolVersion]: version,
      [META.clientCapabilities]: declared,
      [META.clientInfo]: this.info,
    };
    if (this.options.logLevel) meta[META.logLevel] = this.options.logLevel;
    return meta;
  }

  async #initialize(peer: Peer, signal?: AbortSignal): Promise<void> {
    const offered = this.options.legacyProtocolVersion ?? LATEST_LEGACY_PROTOCOL_VERSION;
    const result = await this.#send(
      peer,
      'initialize',
      { protocolVersion: offered, capabilities: this.capabilities, clientInfo: this.info },
      { signal },
    );
    const version = result.protocolVersion;
    if (typeof version !== 'string' || !LEGACY_PROTOCOL_VERSIONS.includes(version)) {
      await peer.close();
      throw new McpError(
        'PROTOCOL_ERROR',
        `the server answered initialize with unsupported protocol version ${String(version)}`,
      );
    }
    this.#era = 'legacy';
    this.#protocolVersion = version;
    this.#serverCapabilities = (result.capabilities as ServerCapabilities) ?? {};
    this.#serverInfo = result.serverInfo as Implementation | undefined;
    this.#instructions = result.instructions as string | undefined;
    await peer.notify('notifications/initialized');
    if (this.options.logLevel && this.#serverCapabilities.logging) {
      await this.#send(peer, 'logging/setLevel', { level: this.options.logLevel });
    }
  }

  /**
   * Every request this client sends goes through here: inside a CLIENT span whose trace context
   * goes into `_meta` (SEP-414), measured, when an OpenTelemetry SDK is installed (src/telemetry).
   */
  #send(peer: Peer, method: string, params?: JsonObject, options?: RequestOptions): Promise<JsonObject> {
    if (!telemetryActive()) return peer.request(method, params, options);
    return observeClientRequest(
      {
        era: this.#era,
        method,
        params,
        binding: peer.transport.binding,
        protocolVersion: this.#protocolVersion,
        sessionId: peer.transport.sessionId,
      },
      (sent) => peer.request(method, sent, options),
      () => peer.lastRequestId,
    );
  }

  #requirePeer(): Peer {
    if (!this.#peer || !this.#era) throw new McpError('NOT_CONNECTED', 'connect() first');
    return this.#peer;
  }

  /**
   * Sends any request. In the modern era `_meta` gets the protocol version, capabilities and client
   * info, and `input_required` results are fulfilled through the handlers and retried with a new id.
   * @throws JsonRpcError from the server; McpError `REQUEST_TIMEOUT`, `REQUEST_CANCELLED`, `CONNECTION_CLOSED`, `INPUT_REQUIRED_LIMIT`
   */
  async request(method: string, params: JsonObject = {}, options: CallOptions = {}): Promise<JsonObject> {
    const peer = this.#requirePeer();
    const meta = {
      ...(this.#era === 'modern' ? this.#modernMeta : undefined),
      ...(params._meta as JsonObject),
      ...options.meta,
    };
    let sent: JsonObject = Object.keys(meta).length ? { ...params, _meta: meta } : params;
    const reqOptions = {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      onprogress: options.onprogress,
      resetTimeoutOnProgress: options.resetTimeoutOnProgress ?? options.onprogress !== undefined,
      maxTotalTimeoutMs: options.maxTotalTimeoutMs,
    };
    const maxRounds = this.options.maxInputRounds ?? 8;
    for (let round = 0; ; round++) {
      const result = await this.#send(peer, method, sent, reqOptions);
      if (
        result.resultType !== 'input_required' ||
        !MRTR_METHODS.has(method) ||
        options.fulfilInputs === false
      )
        return result;
      if (round >= maxRounds)
        throw new McpError('INPUT_REQUIRED_LIMIT', `${method} still needed input after ${maxRounds} rounds`);
      const requests = (result.inputRequests ?? {}) as Record<string, InputRequest>;
      const answers: JsonObject = {};
      await Promise.all(
        Object.entries(requests).map(async ([key, req]) => {
          answers[key] = await this.#fulfil(
            req.method,
            (req.params ?? {}) as JsonObject,
            options.signal,
            'input',
          );
        }),
      );
      sent = { ...sent, inputResponses: answers };
      if (result.requestState !== undefined) sent.requestState = result.requestState;
      else delete sent.requestState;
    }
  }

  async #fulfil(
    method: string,
    params: JsonObject,
    signal: AbortSignal | undefined,
    via: 'request' | 'input',
  ): Promise<JsonObject> {
    const h = this.options.handlers ?? {};
    const ctx: ClientRequestContext = { signal: signal ?? new AbortController().signal, via };
    switch (method) {
      case 'sampling/createMessage':
        if (h.sampling)
          return (await h.sampling(params as unknown as CreateMessageParams, ctx)) as JsonObject;
        break;
      case 'elicitation/create':
        if (h.elicitation) return (await h.elicitation(params as unknown as ElicitParams, ctx)) as JsonObject;
        break;
      case 'roots/list':
        if (h.roots) {
          const r = await h.roots(ctx);
          return (Array.isArray(r) ? { roots: r } : r) as JsonObject;
        }
        break;
      case 'ping':
        return {};
    }
    throw new JsonRpcError(
      ErrorCode.MethodNotFound,
      `Method not found: ${method} (no handler on this client)`,
    );
  }

  #onrequest(r: JsonRpcRequest, signal: AbortSignal): Promise<JsonObject> {
    return this.#fulfil(r.method, (r.params ?? {}) as JsonObject, signal, 'request');
  }

  #onnotification(n: JsonRpcNotification): void {
    const params = (n.params ?? {}) as JsonObject;
    const subId = (params._meta as JsonObject | undefined)?.[META.subscriptionId] as
      string | number | undefined;
    if (subId !== undefined) {
      const l = this.#listeners.get(subId);
      if (l) {
        l(n);
        return;
      }
    }
    if (n.method === 'notifications/message')
      this.options.onlog?.(params as { level: string; data: unknown });
    if (this.#era === 'legacy' && this.#legacyListens.size) {
      for (const l of this.#legacyListens) if (legacyWants(l.filter, n)) l.handler(n);
    }
    this.options.onnotification?.(n);
  }

  async #paginate<T>(method: string, key: string, options?: CallOptions): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    const seen = new Set<string>();
    do {
      const r = await this.request(method, cursor === undefined ? {} : { cursor }, options);
      out.push(...((r[key] as T[]) ?? []));
      cursor = typeof r.nextCursor === 'string' ? r.nextCursor : undefined;
      if (cursor !== undefined) {
        if (seen.has(cursor)) throw new McpError('PROTOCOL_ERROR', `${method} repeated cursor ${cursor}`);
        seen.add(cursor);
      }
    } while (cursor !== undefined);
    return out;
  }

  /** All tools, following `nextCursor` pages. */
  listTools(options?: CallOptions): Promise<Tool[]> {
    return this.#paginate<Tool>('tools/list', 'tools', options);
  }

  /**
   * Calls a tool. An `isError` result is returned, not thrown. When the server answers with a task
   * (2026-07-28 Tasks extension), the task is followed to its end as if none had existed: polled at
   * its `pollIntervalMs`, `input_required` answered through the handlers, `signal` turned into
   * `tasks/cancel`.
   * @throws JsonRpcError (a failed task's error included); McpError `REQUEST_CANCELLED` for a
   *   cancelled task
   */
  async callTool(name: string, args: JsonObject = {}, options?: CallOptions): Promise<CallToolResult> {
    const answer = await this.request('tools/call', { name, arguments: args }, options);
    if (answer.resultType !== 'task') return answer as unknown as CallToolResult;
    return followTask(this.#taskChannel(), answer as unknown as TaskState, {
      signal: options?.signal,
      ontask: options?.ontask,
    });
  }

  /**
   * Starts a tool call and returns a handle instead of waiting: `taskId`, `state`, `wait()`,
   * `get()` and `cancel()`. A server that answers at once gives a handle whose `wait()` resolves to
   * that result.
   */
  async startTask(name: string, args: JsonObject = {}, options?: CallOptions): Promise<TaskHandle> {
    const answer = await this.request('tools/call', { name, arguments: args }, options);
    return taskHandle(this.#taskChannel(), answer);
  }

  /** Follows a task by id (one started earlier, maybe by another connection of the same principal). */
  async followTask(taskId: string, options?: TaskFollowOptions): Promise<CallToolResult> {
    const state = (await this.request('tasks/get', { taskId })) as unknown as TaskState;
    return followTask(this.#taskChannel(), state, options);
  }

  #taskChannel(): TaskChannel {
    return {
      request: (method, params, options) => this.request(method, params, options),
      fulfil: (method, params, signal) => this.#fulfil(method, params, signal, 'input'),
    };
  }

  /** All resources. */
  listResources(options?: CallOptions): Promise<Resource[]> {
    return this.#paginate<Resource>('resources/list', 'resources', options);
  }

  /** All resource templates. */
  listResourceTemplates(options?: CallOptions): Promise<ResourceTemplateInfo[]> {
    return this.#paginate<ResourceTemplateInfo>('resources/templates/list', 'resourceTemplates', options);
  }

  /** Reads a resource. */
  async readResource(uri: string, options?: CallOptions): Promise<ReadResourceResult> {
    return (await this.request('resources/read', { uri }, options)) as unknown as ReadResourceResult;
  }

  /** All prompts. */
  listPrompts(options?: CallOptions): Promise<Prompt[]> {
    return this.#paginate<Prompt>('prompts/list', 'prompts', options);
  }

  /** Renders a prompt. */
  async getPrompt(
    name: string,
    args: Record<string, string> = {},
    options?: CallOptions,
  ): Promise<GetPromptResult> {
    return (await this.request(
      'prompts/get',
      { name, arguments: args },
      options,
    )) as unknown as GetPromptResult;
  }

  /** Asks for completions of an argument. */
  async complete(
    ref: CompletionReference,
    argument: { name: string; value: string },
    context?: { arguments?: Record<string, string> },
    options?: CallOptions,
  ): Promise<CompleteResult> {
    const params: JsonObject = { ref, argument };
    if (context) params.context = context;
    return (await this.request('completion/complete', params, options)) as unknown as CompleteResult;
  }

  /** Legacy: `ping`. Modern servers have no ping (resolves after `server/discover` instead). */
  async ping(options?: CallOptions): Promise<void> {
    await this.request(this.#era === 'modern' ? 'server/discover' : 'ping', {}, options);
  }

  /** Legacy: `logging/setLevel`. Modern: future requests carry the level in `_meta`. */
  async setLogLevel(level: LogLevel): Promise<void> {
    if (this.#era === 'modern') {
      this.options.logLevel = level;
      this.#modernMeta = this.#metaFor(this.#protocolVersion!);
      return;
    }
    await this.request('logging/setLevel', { level });
  }

  /**
   * Subscribes to server notifications. Modern: `subscriptions/listen`; resolves after the
   * acknowledgement with what the server granted. Legacy: `resources/subscribe` for each URI, and the
   * session's list_changed notifications filtered to what was asked.
   */
  async listen(
    filter: ListenFilter,
    handler: (notification: JsonRpcNotification) => void,
  ): Promise<Subscription> {
    const peer = this.#requirePeer();
    if (this.#era === 'legacy') {
      const entry: LegacyListen = { filter, handler, end: () => {} };
      this.#legacyListens.add(entry);
      for (const uri of filter.resourceSubscriptions ?? [])
        await this.request('resources/subscribe', { uri });
      let end!: () => void;
      const ended = new Promise<void>((res) => (end = res));
      entry.end = end;
      if (peer.closed) this.#endLegacyListens();
      return {
        granted: filter,
        ended,
        close: async () => {
          if (!this.#legacyListens.delete(entry)) return;
          end();
          for (const uri of filter.resourceSubscriptions ?? [])
            await this.request('resources/unsubscribe', { uri }).catch(() => {});
        },
      };
    }
    const controller = new AbortController();
    let ackResolve!: (granted: ListenFilter) => void;
    let ackReject!: (e: unknown) => void;
    const ack = new Promise<ListenFilter>((res, rej) => {
      ackResolve = res;
      ackReject = rej;
    });
    // The listen request id is the subscription id; the peer assigns ids sequentially, so register
    // the listener for whichever id the request gets by matching on the acknowledgement.
    const listener = (n: JsonRpcNotification) => {
      if (n.method === 'notifications/subscriptions/acknowledged') {
        ackResolve(((n.params as JsonObject)?.notifications as ListenFilter) ?? {});
      } else handler(n);
    };
    const pending = this.#send(
      peer,
      'subscriptions/listen',
      { notifications: filter, _meta: this.#modernMeta },
      {
        signal: controller.signal,
        timeoutMs: 2 ** 31 - 1,
      },
    );
    const id = peer.lastRequestId;
    this.#listeners.set(id, listener);
    let closedHere = false;
    // The request settles when the server ends the stream; nothing of it is held after that.
    const ended = pending.then(
      () => {
        this.#listeners.delete(id);
      },
      (e: unknown) => {
        this.#listeners.delete(id);
        ackReject(e);
        if (!closedHere) throw e;
      },
    );
    ended.catch(() => {}); // observed or not, never an unhandled rejection
    const granted = await ack;
    return {
      granted,
      ended,
      close: async () => {
        if (!this.#listeners.has(id)) return; // the server ended it already
        closedHere = true;
        controller.abort('listen closed by the client');
        this.#listeners.delete(id);
        await ended;
      },
    };
  }

  /**
   * Sends a long-lived request whose notifications carry its request id as
   * `_meta["io.modelcontextprotocol/subscriptionId"]` (e.g. `events/stream`) and hands those
   * notifications to `onnotification` until the request settles. Returns the request's result.
   * @throws as {@link Client.request}
   */
  streamRequest(
    method: string,
    params: JsonObject,
    onnotification: (n: JsonRpcNotification) => void,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<JsonObject> {
    const peer = this.#requirePeer();
    const meta = {
      ...(this.#era === 'modern' ? this.#modernMeta : undefined),
      ...(params._meta as JsonObject),
    };
    const pending = this.#send(peer, method, { ...params, _meta: meta }, options);
    const id = peer.lastRequestId;
    this.#listeners.set(id, onnotification);
    return pending.finally(() => this.#listeners.delete(id));
  }

  /** The connection closed: the legacy listens emulated on it are over. */
  #endLegacyListens(): void {
    for (const entry of this.#legacyListens) entry.end();
    this.#legacyListens.clear();
  }

  /** Closes the connection (for stdio: ends the child process). */
  async close(): Promise<void> {
    const peer = this.#peer;
    await peer?.close();
    if (peer)
      sessionClosed(peer, {
        side: 'client',
        era: this.#era,
        protocolVersion: this.#protocolVersion,
        binding: peer.transport.binding,
      });
  }
}

function legacyWants(f: ListenFilter, n: JsonRpcNotification): boolean {
  switch (n.method) {
    case 'notifications/tools/list_changed':
      return !!f.toolsListChanged;
    case 'notifications/prompts/list_changed':
      return !!f.promptsListChanged;
    case 'notifications/resources/list_changed':
      return !!f.resourcesListChanged;
    case 'notifications/resources/updated':
      return !!f.resourceSubscriptions?.includes(String((n.params as JsonObject | undefined)?.uri));
    default:
      return false;
  }
}
