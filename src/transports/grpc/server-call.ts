/**
 * The server side of one `Call`: one self-contained modern (2026-07-28) request, answered with its
 * notifications and then its response on a server stream (`mcp.proto`, `rpc Call`), dispatched
 * directly like a 2026-07-28 HTTP POST. The client cancelling the call, or its deadline passing,
 * aborts the handler's signal.
 * @module
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { InboundCall, toErrorResponse } from '../../protocol/peer.js';
import { AuthError } from '../../protocol/auth.js';
import type { MessageContext } from '../../protocol/transport.js';
import type { Servable } from '../../server/servable.js';
import { withTrace } from '../shared/ingress.js';
import { refusalStatus } from './auth.js';
import { writeFrame } from './backpressure.js';
import { readFrame, toFrame } from './frame.js';
import { checkCallMetadata } from './metadata.js';
import type { Frame } from './proto.js';

const DONE = Promise.resolve();
/**
 * A cancel this close to the call's deadline (ms) is reported as the deadline: the client's own
 * deadline timer usually fires first and reaches the server as a plain cancel, while the server
 * counts its deadline from when the request arrived.
 */
const DEADLINE_SLACK_MS = 1000;

/** One accepted `Call`. */
export class GrpcCallExchange {
  #server: Servable;
  #call: ServerWritableStream<Frame, Frame>;
  #context: MessageContext;
  #maxMessageBytes: number;
  #inbound: InboundCall | undefined;
  #draining = false;

  constructor(
    server: Servable,
    call: ServerWritableStream<Frame, Frame>,
    context: MessageContext,
    maxMessageBytes: number,
  ) {
    this.#server = server;
    this.#call = call;
    this.#context = context;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /**
   * Shutdown: a `subscriptions/listen` call is ended now (its handler returns and the response
   * closes the subscription); any other request is left to finish.
   */
  drain(): void {
    this.#draining = true;
    if (this.#inbound?.method === 'subscriptions/listen') this.#inbound.cancel('the server is shutting down');
  }

  /** Serves the call; resolves when the handler is done (answered or cancelled). Never throws. */
  async run(): Promise<void> {
    const r = readFrame(this.#call.request.json, this.#maxMessageBytes);
    if (!r.ok) return this.#end(r.error);
    if (!('message' in r)) {
      return this.#end(
        errorResponse(
          null,
          ErrorCode.InvalidRequest,
          'Invalid Request: a Call carries one message, not a batch',
        ),
      );
    }
    const message = r.message;
    if (!('method' in message)) {
      return this.#end(
        errorResponse(
          null,
          ErrorCode.InvalidRequest,
          'Invalid Request: a Call carries a request, not a response',
        ),
      );
    }
    // Client notifications have no meaning outside a session (as on 2026-07-28 HTTP): accept, ignore.
    if (!('id' in message)) return this.#end();
    const mismatch = checkCallMetadata(this.#context.headers ?? {}, message);
    if (mismatch) return this.#end(errorResponse(message.id, ErrorCode.HeaderMismatch, mismatch));
    const inbound = new InboundCall(message.id, message.method);
    this.#inbound = inbound;
    const call = this.#call;
    const oncancel = () => {
      const deadline = call.getDeadline();
      const passed = deadline instanceof Date ? deadline.getTime() : deadline;
      inbound.cancel(
        Date.now() + DEADLINE_SLACK_MS >= passed
          ? 'the gRPC deadline passed'
          : 'the client cancelled the gRPC call',
      );
    };
    call.once('cancelled', oncancel);
    if (call.cancelled) oncancel();
    if (this.#draining) this.drain();
    let response: JsonRpcMessage;
    try {
      const result = await this.#server.dispatch(message, {
        call: inbound,
        context: this.#context.trace ? this.#context : withTrace(this.#context, message),
        notify: (method, params) =>
          this.#write(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params }),
      });
      response = { jsonrpc: '2.0', id: message.id, result };
    } catch (error) {
      if (error instanceof AuthError) {
        // A refusal by middleware (e.g. a missing tool scope) ends this request as the ingress would.
        call.off('cancelled', oncancel);
        if (!call.cancelled) call.emit('error', refusalStatus(error));
        return;
      }
      response = toErrorResponse(message.id, error);
    }
    call.off('cancelled', oncancel);
    this.#end(response);
  }

  #write(message: JsonRpcMessage): Promise<void> {
    const call = this.#call;
    if (call.cancelled) return DONE;
    return writeFrame(call, toFrame(message));
  }

  #end(message?: JsonRpcMessage): void {
    const call = this.#call;
    if (call.cancelled) return;
    if (message) call.write(toFrame(message));
    call.end();
  }
}
