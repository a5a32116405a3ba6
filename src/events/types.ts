/**
 * Names, error codes and shapes of the Events extension (`io.modelcontextprotocol/events`,
 * SEP-3415, a draft).
 * @module
 */
import type { JsonObject } from '../protocol/types.js';

/** The extension identifier, under `capabilities.extensions`. */
export const EVENTS_EXTENSION_ID = 'io.modelcontextprotocol/events';

/** The SEP's error codes (provisional numbers, SEP-3415 "Error Handling"). */
export const EventsErrorCode = {
  NotFound: -32023,
  Forbidden: -32024,
  ResourceExhausted: -32025,
  Unsupported: -32026,
  CallbackEndpointError: -32027,
} as const;

/** A delivery mode. */
export type DeliveryMode = 'poll' | 'push' | 'webhook';

/** One emitted event (before per-subscription shaping). */
export interface EmittedEvent {
  eventId: string;
  name: string;
  /** ISO 8601. */
  timestamp: string;
  data: JsonObject;
}

/** Per-subscription filtering and shaping (SEP-3415 Appendix A "Broadcast emit"). */
export interface EventHooks {
  /** Whether a subscription with these `arguments` receives the event. Default: every subscription. */
  match?(event: EmittedEvent, args: JsonObject, principal: string): boolean;
  /** Shapes the payload for a subscription (redaction, expansion). Default: as emitted. */
  transform?(event: EmittedEvent, args: JsonObject, principal: string): EmittedEvent;
}

/** How an event type is declared (`registerEvent`). */
export interface EventConfig extends EventHooks {
  description?: string;
  /** JSON Schema of subscription arguments (checked on poll, stream and subscribe: -32602). */
  inputSchema?: JsonObject;
  /** JSON Schema of `data`. */
  payloadSchema?: JsonObject;
  /** The modes offered. Default: every mode the server can serve (webhook only with a sender). */
  delivery?: DeliveryMode[];
  _meta?: JsonObject;
}
