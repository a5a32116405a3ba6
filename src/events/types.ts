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

/**
 * What `emitEvent` returns: a `Promise` that is also the event as emitted (its `eventId`, `name`,
 * `timestamp` and `data` are readable at once, as before this was a promise).
 * - It **resolves** with the {@link EmittedEvent} once the occurrence is recorded: appended to the
 *   extension's {@link EventLog} (the in-memory log: at once; a shared one such as Redis: when the
 *   append was acknowledged) and its webhook deliveries are in the delivery queue. An `eventId`
 *   that was already logged (emitted by another process too) counts as recorded.
 * - It **rejects** with an `Error` (`anywire: event "<name>" (<eventId>) was not recorded: ...`,
 *   the store's error as `cause`) when the log or the delivery queue refused it, for instance while
 *   Redis is unreachable. A rejection means the occurrence may be missing: it was not (or not
 *   wholly: logged, but its webhook deliveries not queued) recorded, so pollers, streams or
 *   webhooks may never see it. Report the failure, or emit again: a new `eventId` is a new
 *   occurrence (seen twice if the first was recorded after all); the same `eventId` is never
 *   logged twice, but then a first emit that was logged without its deliveries stays undelivered.
 * - An emit before the server starts resolves once the server started and logged it, and rejects
 *   when it was dropped from the bounded start buffer (`maxBufferedEventsPerType`).
 *
 * Awaiting it is optional: a rejection nobody awaits is reported through the server's error
 * reporting (stderr by default), never as an unhandled rejection.
 */
export type EmitReceipt = Promise<EmittedEvent> & Readonly<EmittedEvent>;

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
