/**
 * The context every handler receives: cancellation, progress, logging, and the client features
 * (`sample`, `elicit`, `listRoots`) that work in both eras. In the legacy era they are
 * server-to-client requests; in the modern era (2026-07-28) they become multi round-trip
 * `input_required` results, transparently to the handler (basic/patterns/mrtr).
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcId } from '../jsonrpc/types.js';
import type { LogLevel } from '../protocol/constants.js';
import type { Era } from '../protocol/eras.js';
import { logLevelRank } from '../protocol/constants.js';
import { McpError } from '../protocol/errors.js';
import type { InboundCall } from '../protocol/peer.js';
import type { MessageContext, SendOptions } from '../protocol/transport.js';
import type {
  AuthInfo,
  ClientCapabilities,
  CreateMessageParams,
  CreateMessageResult,
  ElicitParams,
  ElicitResult,
  Implementation,
  InputRequest,
  JsonObject,
  ListRootsResult,
} from '../protocol/types.js';

export type { Era } from '../protocol/eras.js';

/** A legacy session as dispatch sees it: state from `initialize` and a back-channel to the client. */
export interface LegacySession {
  /** Set once `initialize` succeeded. */
  protocolVersion?: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  /** Minimum level set by `logging/setLevel`; unset = send everything. */
  logLevel?: string;
  /** Resource URIs subscribed with `resources/subscribe`. */
  subscriptions: Set<string>;
  /** The session id, where the binding has sessions. */
  id?: string;
  /** Sends a server-to-client request (sampling, elicitation, roots, ping). */
  request(
    method: string,
    params: JsonObject | undefined,
    options: { relatedRequestId?: JsonRpcId; signal?: AbortSignal },
  ): Promise<JsonObject>;
  /**
   * Sends a session-wide notification (list_changed, resources/updated); `options.broadcastId`
   * names the broadcast it delivers (see `SendOptions`).
   */
  notify(method: string, params?: JsonObject, options?: SendOptions): Promise<void>;
  /** False while another process delivers this session's broadcasts (a session shared between processes). */
  hearsBroadcasts?: () => boolean;
}

/** What a binding provides for one inbound request. */
export interface RequestScope {
  call: InboundCall;
  context: MessageContext;
  /** Sends a notification tied to this request (progress, log, listen events). */
  notify(method: string, params?: JsonObject): Promise<void>;
  /** The legacy session this request belongs to, if any. */
  session?: LegacySession;
}

/** Thrown inside a modern handler to stop it when client input is needed. Internal. */
export class InputRequiredSignal extends Error {
  constructor() {
    super('input required');
    this.name = 'InputRequiredSignal';
  }
}

/** Collected MRTR state for one modern request. */
export class InputCollector {
  /** Answers from earlier rounds and this one, by key (a null-prototype map: keys come from the wire). */
  readonly responses: Record<string, unknown>;
  /** Requests this round could not answer (a null-prototype map). */
  readonly pending: Record<string, InputRequest> = Object.create(null) as Record<string, InputRequest>;
  /** Called (once, on a later macrotask) after the handler first asked for input it does not have. */
  onneeded: (() => void) | undefined;
  #counter = 0;
  #asked = false;
  #abandoned = false;
  #controller: AbortController | undefined;

  /** @param responses answers by key; only own properties count */
  constructor(responses: Record<string, unknown>) {
    this.responses = responses;
  }

  /** True once the request ended with `input_required` and the handler was left parked. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /**
   * The handler's signal: aborts with the request's own signal, and when the request ends for input
   * ({@link abandon}). Created on first use, linked to `outer` then.
   */
  signalFor(outer: AbortSignal): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#abandoned) controller.abort(new Error('input required'));
      else if (outer.aborted) controller.abort(outer.reason);
      else outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
    }
    return this.#controller.signal;
  }

  /** Marks the parked handler abandoned and aborts its signal with `reason`. */
  abandon(reason: unknown): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#controller?.abort(reason);
  }

  /**
   * Returns the stored answer for this input, or registers it as pending and never resolves.
   * An answer of the wrong shape for its method counts as missing, so the client is asked again.
   */
  ask<T>(request: InputRequest, key = `input_${this.#counter + 1}`): Promise<T> {
    this.#counter++;
    const answer = Object.hasOwn(this.responses, key) ? this.responses[key] : undefined;
    if (answer !== undefined && answerFits(request.method, answer)) return Promise.resolve(answer as T);
    this.pending[key] = request;
    if (!this.#asked) {
      this.#asked = true;
      // Let the handler ask for more inputs in parallel (Promise.all) before answering.
      setTimeout(() => this.onneeded?.(), 0);
    }
    return new Promise<T>(() => {});
  }
}

/** Whether `a` has the shape of an answer to a `method` input request (a wrong shape counts as unanswered). */
export function answerFits(method: string, a: unknown): boolean {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return false;
  const o = a as JsonObject;
  if (method === 'elicitation/create')
    return o.action === 'accept' || o.action === 'decline' || o.action === 'cancel';
  if (method === 'sampling/createMessage')
    return typeof o.role === 'string' && typeof o.content === 'object' && o.content !== null;
  return Array.isArray(o.roots);
}

/** Options of the client-feature calls on {@link HandlerContext}. */
export interface InputOptions {
  /**
   * Modern era: the key of this request in `inputRequests`/`inputResponses` (default `input_<n>` by call
   * order). Give stable names when clients may answer by key.
   */
  key?: string;
}

/** Per-request facts every handler can read. */
export interface RequestInfo {
  era: Era;
  protocolVersion: string;
  clientCapabilities: ClientCapabilities;
  clientInfo?: Implementation;
  /** Modern: `_meta` log level; legacy: the session's level. Undefined = legacy "all", modern "none". */
  logLevel?: string;
  /** The request's `_meta`. */
  meta?: JsonObject;
}

/** The context passed to tool, resource, prompt and completion handlers. */
export interface HandlerContext {
  /** Aborts when the client cancels, the connection closes, or (modern) the request ends for input. */
  readonly signal: AbortSignal;
  /** The JSON-RPC id of the request. */
  readonly requestId: JsonRpcId;
  /** `legacy` (sessionful revisions) or `modern` (2026-07-28). */
  readonly era: Era;
  /** The protocol revision of this request. */
  readonly protocolVersion: string;
  /** What the client declared (modern: in this request; legacy: at initialize). */
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  /** Identity from the binding's auth layer. */
  readonly authInfo?: AuthInfo;
  /** The binding the request came in on: `stdio`, `http`, ... */
  readonly binding: string;
  /** Request headers (lower-cased), where the binding has them. */
  readonly headers?: Record<string, string | undefined>;
  /** The legacy session id, where there is one. */
  readonly sessionId?: string;
  /** The request's `_meta`. */
  readonly meta?: JsonObject;
  /**
   * Legacy Streamable HTTP: closes this request's SSE stream now; the client resumes it with
   * `Last-Event-ID` and nothing is lost (SEP-1699). A no-op on other bindings and eras.
   */
  closeSseStream(): void;
  /** Sends `notifications/progress` when the client asked for progress (a no-op otherwise). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Sends `notifications/message` if the client's log level lets it through. */
  log(level: LogLevel, data: unknown, logger?: string): Promise<void>;
  /**
   * Asks the client's model for a completion (`sampling/createMessage`).
   * @throws McpError `CAPABILITY_NOT_SUPPORTED` (legacy) or JsonRpcError -32021 (modern) when the client lacks `sampling`
   */
  sample(params: CreateMessageParams, options?: InputOptions): Promise<CreateMessageResult>;
  /**
   * Asks the user for input (`elicitation/create`, form or URL mode).
   * @throws McpError `CAPABILITY_NOT_SUPPORTED` (legacy) or JsonRpcError -32021 (modern) when the client lacks `elicitation`
   */
  elicit(params: ElicitParams, options?: InputOptions): Promise<ElicitResult>;
  /**
   * Lists the client's roots (`roots/list`).
   * @throws McpError `CAPABILITY_NOT_SUPPORTED` (legacy) or JsonRpcError -32021 (modern) when the client lacks `roots`
   */
  listRoots(options?: InputOptions): Promise<ListRootsResult>;
}

function capabilityFor(method: string): 'sampling' | 'elicitation' | 'roots' {
  return method === 'sampling/createMessage'
    ? 'sampling'
    : method === 'elicitation/create'
      ? 'elicitation'
      : 'roots';
}

function elicitMode(params: JsonObject): 'form' | 'url' {
  return params.mode === 'url' ? 'url' : 'form';
}

/** The handler context of one request (methods on the prototype: one allocation per request). */
class RequestContext implements HandlerContext {
  /** The scope and facts behind a context this module built, or `undefined` for any other object. */
  static internals(ctx: HandlerContext): { scope: RequestScope; info: RequestInfo } | undefined {
    return #scope in ctx ? { scope: ctx.#scope, info: ctx.#info } : undefined;
  }

  readonly requestId: JsonRpcId;
  readonly era: Era;
  readonly protocolVersion: string;
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  readonly authInfo?: AuthInfo;
  readonly binding: string;
  readonly headers?: Record<string, string | undefined>;
  readonly sessionId?: string;
  readonly meta?: JsonObject;
  #scope: RequestScope;
  #info: RequestInfo;
  #inputs: InputCollector | undefined;

  constructor(scope: RequestScope, info: RequestInfo, inputs: InputCollector | undefined) {
    const context = scope.context;
    this.#scope = scope;
    this.#info = info;
    this.#inputs = inputs;
    this.requestId = scope.call.id;
    this.era = info.era;
    this.protocolVersion = info.protocolVersion;
    this.clientCapabilities = info.clientCapabilities;
    this.clientInfo = info.clientInfo;
    this.authInfo = context.authInfo;
    this.binding = context.binding;
    this.headers = context.headers;
    this.sessionId = scope.session?.id ?? context.sessionId;
    this.meta = info.meta;
  }

  get signal(): AbortSignal {
    const call = this.#scope.call;
    return this.#inputs ? this.#inputs.signalFor(call.signal) : call.signal;
  }

  /** True once the request was cancelled or (modern, MRTR) ended for input. */
  get #ended(): boolean {
    return this.#scope.call.cancelled || this.#inputs?.abandoned === true;
  }

  closeSseStream(): void {
    this.#scope.context.closeSseStream?.();
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    const progressToken = this.meta?.progressToken as string | number | undefined;
    if (progressToken === undefined || this.#ended) return;
    const params: JsonObject = { progressToken, progress };
    if (total !== undefined) params.total = total;
    if (message !== undefined) params.message = message;
    await this.#scope.notify('notifications/progress', params);
  }

  async log(level: LogLevel, data: unknown, logger?: string): Promise<void> {
    if (this.#ended) return;
    const min = this.era === 'modern' ? this.#info.logLevel : this.#scope.session?.logLevel;
    if (min === undefined) {
      if (this.era === 'modern') return; // 2026-07-28: no logLevel in _meta, no log notifications
    } else if (logLevelRank(level) < logLevelRank(min)) return;
    const params: JsonObject = { level, data };
    if (logger !== undefined) params.logger = logger;
    await this.#scope.notify('notifications/message', params);
  }

  sample(params: CreateMessageParams, options?: InputOptions): Promise<CreateMessageResult> {
    return this.#clientRequest<CreateMessageResult>(
      'sampling/createMessage',
      params as JsonObject,
      options?.key,
    );
  }

  elicit(params: ElicitParams, options?: InputOptions): Promise<ElicitResult> {
    return this.#clientRequest<ElicitResult>('elicitation/create', params as JsonObject, options?.key);
  }

  listRoots(options?: InputOptions): Promise<ListRootsResult> {
    return this.#clientRequest<ListRootsResult>('roots/list', undefined, options?.key);
  }

  #clientRequest<T>(method: string, params: JsonObject | undefined, key: string | undefined): Promise<T> {
    const cap = capabilityFor(method);
    const caps = this.clientCapabilities;
    const declared = caps[cap] !== undefined;
    const modeOk =
      method !== 'elicitation/create' ||
      !params ||
      elicitMode(params) === 'form' ||
      (caps.elicitation as JsonObject | undefined)?.url !== undefined;
    if (this.era === 'modern') {
      if (!declared || !modeOk) {
        const required =
          cap === 'elicitation' ? { elicitation: { [elicitMode(params ?? {})]: {} } } : { [cap]: {} };
        throw new JsonRpcError(
          ErrorCode.MissingRequiredClientCapability,
          `Missing required client capability: ${cap}`,
          {
            requiredCapabilities: required,
          },
        );
      }
      if (!this.#inputs) {
        throw new JsonRpcError(
          ErrorCode.InvalidRequest,
          `${method} is only available inside tools/call, prompts/get and resources/read`,
        );
      }
      return this.#inputs.ask<T>({ method, params: params ?? {} } as InputRequest, key);
    }
    if (!declared || !modeOk) {
      return Promise.reject(
        new McpError(
          'CAPABILITY_NOT_SUPPORTED',
          `the client does not support ${cap}${modeOk ? '' : ' (url mode)'}`,
        ),
      );
    }
    const session = this.#scope.session;
    if (!session) return Promise.reject(new McpError('NOT_CONNECTED', `no session to send ${method} on`));
    const call = this.#scope.call;
    return session.request(method, params, { relatedRequestId: call.id, signal: call.signal }) as Promise<T>;
  }
}

/**
 * The request scope and facts behind a handler context (for built-in methods and the tasks
 * extension, which need the session or the binding's notify). Internal to the server layer.
 * @throws Error when `ctx` was not built by {@link createHandlerContext}
 */
export function contextInternals(ctx: HandlerContext): { scope: RequestScope; info: RequestInfo } {
  const found = RequestContext.internals(ctx);
  if (!found) throw new Error('anywire: this method needs the handler context the server passed in');
  return found;
}

/** Builds the handler context for one request. */
export function createHandlerContext(
  scope: RequestScope,
  info: RequestInfo,
  inputs?: InputCollector,
): HandlerContext {
  return new RequestContext(scope, info, inputs);
}
