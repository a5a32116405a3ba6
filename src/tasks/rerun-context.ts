/**
 * The handler context of a task run again on another server after the one running it stopped
 * (Tasks extension, 2026-07-28): built from the stored `tools/call` ({@link TaskRunRequest}), with
 * the task's signal. The tool sees the same identity (subject, client id, scopes; never a token),
 * protocol revision and client capabilities as on the first run; there is no request, session or
 * header any more. It is always wrapped in a task context, which routes progress and input requests
 * to the task. Internal to the Tasks extension.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { LogLevel } from '../protocol/constants.js';
import type { Era } from '../protocol/eras.js';
import type { TaskRunRequest } from '../protocol/task-leases.js';
import type {
  AuthInfo,
  ClientCapabilities,
  CreateMessageResult,
  ElicitResult,
  Implementation,
  ListRootsResult,
} from '../protocol/types.js';
import type { HandlerContext } from '../server/context.js';

const noRequest = () =>
  Promise.reject(
    new JsonRpcError(ErrorCode.InternalError, 'Internal error: a re-run task has no request to ask on'),
  );

/** A request-less context for a re-run task. */
export class RerunContext implements HandlerContext {
  readonly signal: AbortSignal;
  readonly requestId: string;
  readonly era: Era = 'modern';
  readonly protocolVersion: string;
  readonly clientCapabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  readonly authInfo?: AuthInfo;
  /** `task-rerun`: the call came from a stored task, not a binding. */
  readonly binding = 'task-rerun';

  constructor(taskId: string, request: TaskRunRequest, signal: AbortSignal) {
    this.signal = signal;
    this.requestId = `task-rerun:${taskId}`;
    this.protocolVersion = request.protocolVersion ?? '2026-07-28';
    this.clientCapabilities = (request.clientCapabilities ?? {}) as ClientCapabilities;
    if (request.clientInfo) this.clientInfo = request.clientInfo;
    if (request.auth) this.authInfo = { ...request.auth };
  }

  closeSseStream(): void {}
  async progress(): Promise<void> {}
  async log(_level: LogLevel): Promise<void> {}
  sample(): Promise<CreateMessageResult> {
    return noRequest();
  }
  elicit(): Promise<ElicitResult> {
    return noRequest();
  }
  listRoots(): Promise<ListRootsResult> {
    return noRequest();
  }
}
