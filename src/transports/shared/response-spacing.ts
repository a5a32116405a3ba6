/**
 * Keeps a response out of the read that carries its request's last notifications. The official SDK
 * clients dispatch notifications a microtask later than responses, so on a byte stream (stdio, an
 * SSE stream) a progress notification read together with its response is dropped by them. Bindings
 * that write to one stream ask this helper how long to hold a response back.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage } from '../../jsonrpc/types.js';

/** Default hold-back in ms. */
export const DEFAULT_RESPONSE_AFTER_NOTIFICATION_DELAY_MS = 2;

/** Tracks which in-flight requests have sent notifications. */
export class ResponseSpacing {
  readonly delayMs: number;
  #notified = new Set<JsonRpcId>();

  constructor(delayMs = DEFAULT_RESPONSE_AFTER_NOTIFICATION_DELAY_MS) {
    this.delayMs = delayMs;
  }

  /** Records `message`; returns the delay in ms before writing it (0 = write now). */
  delayFor(message: JsonRpcMessage | JsonRpcMessage[], relatedRequestId: JsonRpcId | undefined): number {
    if (relatedRequestId === undefined || this.delayMs <= 0 || Array.isArray(message)) return 0;
    if ('method' in message) {
      if (!('id' in message)) this.#notified.add(relatedRequestId);
      return 0;
    }
    return this.#notified.delete(relatedRequestId) ? this.delayMs : 0;
  }
}
