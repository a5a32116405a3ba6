/**
 * The handler context of a tool call that runs as a task (SEP-2663): the same `HandlerContext` a
 * tool always gets, so a handler needs no change to run as one. Before the task exists (a tool with
 * `taskCreation: 'handler'` gathering input over multi round-trip requests) every call goes to the
 * request's own context; once it runs as a task, `signal` is the task's (aborted by
 * `tasks/cancel`), `progress()` feeds the task's `statusMessage`, `sample()`/`elicit()`/
 * `listRoots()` park the task in `input_required` until `tasks/update` answers, and `log()` is
 * dropped (the spec sends no log or progress notifications for tasks).
 * @module
 */
import type { LogLevel } from '../protocol/constants.js';
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
import type { HandlerContext, InputOptions } from '../server/context.js';
import type { Era } from '../protocol/eras.js';
import type { JsonRpcId } from '../jsonrpc/types.js';

/** What a task context needs from the task it runs as. */
export interface TaskBackend {
  /** The task's signal (aborted by `tasks/cancel` or shutdown). */
  readonly signal: AbortSignal;
  /** Records a status message (from `progress()`). */
  status(message: string): void;
  /** Parks the task until the client answers this input request under `key`. */
  ask(request: InputRequest, key: string): Promise<unknown>;
}

const contexts = new WeakMap<HandlerContext, TaskContext>();

/**
 * A tool handler's context that can turn into a task's. Internal; handlers see a `HandlerContext`.
 */
export class TaskContext implements HandlerContext {
  readonly #request: HandlerContext;
  #task: TaskBackend | undefined;
  #escalate: (() => Promise<void>) | undefined;
  #counter = 0;

  /**
   * @param request the request's context
   * @param escalate turns the call into a task (resolves once it is durably stored); absent when
   *   the call cannot become one (legacy era, or the client did not declare the extension)
   */
  constructor(request: HandlerContext, escalate?: () => Promise<void>) {
    this.#request = request;
    this.#escalate = escalate;
    contexts.set(this, this);
  }

  /** Switches to the task's behaviour (called once the task exists). */
  attach(task: TaskBackend): void {
    this.#task = task;
  }

  /** The context of `ctx` when it belongs to a call that can become a task. */
  static of(ctx: HandlerContext): TaskContext | undefined {
    return contexts.get(ctx);
  }

  /** Turns the call into a task now (no-op when it already is one or cannot be one). */
  async start(): Promise<void> {
    if (this.#task || !this.#escalate) return;
    const escalate = this.#escalate;
    this.#escalate = undefined;
    await escalate();
  }

  /** True once the call runs as a task. */
  get isTask(): boolean {
    return this.#task !== undefined;
  }

  get signal(): AbortSignal {
    return this.#task?.signal ?? this.#request.signal;
  }
  get requestId(): JsonRpcId {
    return this.#request.requestId;
  }
  get era(): Era {
    return this.#request.era;
  }
  get protocolVersion(): string {
    return this.#request.protocolVersion;
  }
  get clientCapabilities(): ClientCapabilities {
    return this.#request.clientCapabilities;
  }
  get clientInfo(): Implementation | undefined {
    return this.#request.clientInfo;
  }
  get authInfo(): AuthInfo | undefined {
    return this.#request.authInfo;
  }
  get binding(): string {
    return this.#request.binding;
  }
  get headers(): Record<string, string | undefined> | undefined {
    return this.#request.headers;
  }
  get sessionId(): string | undefined {
    return this.#request.sessionId;
  }
  get meta(): JsonObject | undefined {
    return this.#request.meta;
  }

  closeSseStream(): void {
    if (!this.#task) this.#request.closeSseStream();
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    if (!this.#task) return this.#request.progress(progress, total, message);
    const text = message ?? (total !== undefined ? `${progress}/${total}` : String(progress));
    this.#task.status(text);
  }

  async log(level: LogLevel, data: unknown, logger?: string): Promise<void> {
    if (!this.#task) return this.#request.log(level, data, logger);
  }

  sample(params: CreateMessageParams, options?: InputOptions): Promise<CreateMessageResult> {
    if (!this.#task) return this.#request.sample(params, options);
    return this.#ask({ method: 'sampling/createMessage', params }, options) as Promise<CreateMessageResult>;
  }

  elicit(params: ElicitParams, options?: InputOptions): Promise<ElicitResult> {
    if (!this.#task) return this.#request.elicit(params, options);
    return this.#ask({ method: 'elicitation/create', params }, options) as Promise<ElicitResult>;
  }

  listRoots(options?: InputOptions): Promise<ListRootsResult> {
    if (!this.#task) return this.#request.listRoots(options);
    return this.#ask({ method: 'roots/list' }, options) as Promise<ListRootsResult>;
  }

  #ask(request: InputRequest, options: InputOptions | undefined): Promise<unknown> {
    this.#counter++;
    return this.#task!.ask(request, options?.key ?? `task_input_${this.#counter}`);
  }
}

/**
 * In a tool handler: turns the call into a task now, if the tool supports tasks and the client
 * declared the extension on this request; the client gets a `CreateTaskResult` and the handler
 * runs on as the task. For tools registered with `taskCreation: 'handler'`, which may first gather
 * input over multi round-trip requests (SEP-2663 "MRTR composition"). Otherwise a no-op: the
 * handler simply goes on within the request.
 */
export async function startTask(ctx: HandlerContext): Promise<void> {
  await TaskContext.of(ctx)?.start();
}
