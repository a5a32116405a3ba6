/**
 * The bodies and headers of MCP webhook deliveries (SEP-3415 "Webhook event delivery", "Non-event
 * webhook bodies"), shared by the sender and the receiver.
 * @module
 */

/** The MCP-specific header that names the subscription a delivery belongs to. */
export const SUBSCRIPTION_ID_HEADER = 'x-mcp-subscription-id';
/** Largest delivery body a server sends, in bytes (SEP-3415 "Delivery profile": 256 KiB). */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/** One event occurrence: the body of an event delivery. */
export interface EventOccurrence {
  eventId: string;
  name: string;
  /** ISO 8601. */
  timestamp: string;
  data: Record<string, unknown>;
  /** Safe-to-persist watermark; `null` or absent when the event type has no replay. */
  cursor?: string | null;
  _meta?: Record<string, unknown>;
}

/** A control envelope: a body with a top-level `type`. */
export type ControlEnvelope =
  | { type: 'gap'; cursor: string | null }
  | { type: 'terminated'; error: { code: number; message: string; data?: unknown } }
  | { type: 'verification'; challenge: string };

/** Why a delivery failed, as a category (never the endpoint's raw answer: SEP-3415 `lastError`). */
export type DeliveryErrorCategory =
  'connection_refused' | 'timeout' | 'tls_error' | 'http_4xx' | 'http_5xx' | 'challenge_failed';
