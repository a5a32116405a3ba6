/**
 * The receiving end of MCP webhook deliveries (SEP-3415 "Webhook-Based Delivery"): verifies the
 * Standard Webhooks signature over the raw body (with the `standardwebhooks` library; timestamps
 * older or newer than 5 minutes are refused), answers the endpoint-verification handshake,
 * deduplicates on `webhook-id`, and hands events and control envelopes to the application.
 * Runtime-neutral: {@link WebhookReceiver.fetch} serves web-standard runtimes (Hono, Workers,
 * Deno, Bun); {@link WebhookReceiver.handle} takes a raw body and headers (Express with
 * `express.raw({ type: 'application/json' })`, Node's `http`).
 * @module
 */
import { Webhook } from 'standardwebhooks';
import { SUBSCRIPTION_ID_HEADER } from './types.js';
import type { ControlEnvelope, EventOccurrence } from './types.js';

/** What the receiver learned about one verified delivery. */
export interface DeliveryInfo {
  /** The `webhook-id` header: the event id, or `msg_<type>_<random>` for control envelopes. */
  webhookId: string;
  /** The `X-MCP-Subscription-Id` header. */
  subscriptionId: string | undefined;
  /** The `webhook-timestamp` header, seconds since the epoch. */
  timestamp: number;
}

/** Options of {@link WebhookReceiver}. Limits have units in their names. */
export interface WebhookReceiverOptions {
  /**
   * The `whsec_` secrets that may have signed a delivery, or a function of the delivery's
   * subscription id returning them. During a first subscribe's verification handshake the id is
   * one the receiver has not been told yet: return every secret not yet tied to an id.
   */
  secrets: string[] | ((subscriptionId: string | undefined) => string[] | Promise<string[]>);
  /** An event occurrence; resolve once it is durably accepted (a rejection answers 503, so it is retried). */
  onEvent?: (event: EventOccurrence, info: DeliveryInfo) => void | Promise<void>;
  /** A `gap` or `terminated` envelope, to forward to the consuming client. */
  onControl?: (
    envelope: Exclude<ControlEnvelope, { type: 'verification' }>,
    info: DeliveryInfo,
  ) => void | Promise<void>;
  /** Whether to answer a verification handshake (default: yes, once its signature verifies). */
  acceptVerification?: (info: DeliveryInfo) => boolean | Promise<boolean>;
  /** Largest body accepted, in bytes (413 beyond). Default 256 KiB, the SEP's delivery profile. */
  maxBodyBytes?: number;
  /** How long a processed `webhook-id` is remembered for deduplication, in ms. Default 600 000. */
  dedupeWindowMs?: number;
  /** Most remembered `webhook-id`s (oldest forgotten first). Default 10 000. */
  maxDedupeEntries?: number;
}

/** An HTTP answer in runtime-neutral form. */
export interface ReceiverResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const DEFAULTS = { maxBodyBytes: 256 * 1024, dedupeWindowMs: 600_000, maxDedupeEntries: 10_000 };

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isFinite(value) || value <= 0))
    throw new RangeError(`anywire: ${name} must be a positive number, got ${value}`);
}

const json = (status: number, value: unknown): ReceiverResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

/** Receives signed MCP webhook deliveries. See the module docs. */
export class WebhookReceiver {
  readonly #o: WebhookReceiverOptions & typeof DEFAULTS;
  readonly #seen = new Map<string, number>(); // webhook-id -> expiry (ms), oldest first
  readonly #inFlight = new Map<string, Promise<ReceiverResponse>>();
  readonly #verifiers = new Map<string, Webhook>();

  /** @throws RangeError for a non-positive limit */
  constructor(options: WebhookReceiverOptions) {
    checkPositive('maxBodyBytes', options.maxBodyBytes);
    checkPositive('dedupeWindowMs', options.dedupeWindowMs);
    checkPositive('maxDedupeEntries', options.maxDedupeEntries);
    this.#o = { ...DEFAULTS, ...options };
  }

  /** Serves a web-standard `Request` (POST with the raw JSON body). */
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const length = Number(request.headers.get('content-length') ?? '0');
    if (length > this.#o.maxBodyBytes) return toResponse(json(413, { error: 'payload_too_large' }));
    const body = new Uint8Array(await request.arrayBuffer());
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return toResponse(await this.handle(body, headers));
  }

  /**
   * Verifies and processes one delivery given its raw body bytes and headers (any case).
   * Answers 200 (processed, or a duplicate), 200 `{challenge}` (verification), 400 (not JSON),
   * 401 (signature or timestamp refused), 413 (too large), 503 (a callback failed: retry later).
   */
  async handle(
    rawBody: string | Uint8Array,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<ReceiverResponse> {
    const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
    const size = typeof rawBody === 'string' ? new TextEncoder().encode(rawBody).length : rawBody.length;
    if (size > this.#o.maxBodyBytes) return json(413, { error: 'payload_too_large' });
    const h: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k.toLowerCase()] = String(v);
    const webhookId = h['webhook-id'];
    const subscriptionId = h[SUBSCRIPTION_ID_HEADER];
    if (!webhookId || !h['webhook-timestamp'] || !h['webhook-signature'])
      return json(401, { error: 'missing_signature_headers' });
    const secrets = await (typeof this.#o.secrets === 'function'
      ? this.#o.secrets(subscriptionId)
      : this.#o.secrets);
    let verified = false;
    for (const secret of secrets) {
      try {
        this.#verifier(secret).verify(body, h, { jsonParse: false });
        verified = true;
        break;
      } catch {}
    }
    if (!verified) return json(401, { error: 'invalid_signature' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return json(400, { error: 'invalid_json' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      return json(400, { error: 'invalid_body' });
    const info: DeliveryInfo = { webhookId, subscriptionId, timestamp: Number(h['webhook-timestamp']) };
    const envelope = parsed as Record<string, unknown>;
    if (Object.hasOwn(envelope, 'type') && envelope.type === 'verification') {
      if (typeof envelope.challenge !== 'string') return json(400, { error: 'invalid_body' });
      const ok = (await this.#o.acceptVerification?.(info)) ?? true;
      return ok ? json(200, { challenge: envelope.challenge }) : json(403, { error: 'not_accepted' });
    }
    this.#sweep();
    if (this.#seen.has(webhookId)) return json(200, { duplicate: true });
    const pending = this.#inFlight.get(webhookId);
    if (pending) return pending;
    const work = this.#dispatch(envelope, info).finally(() => this.#inFlight.delete(webhookId));
    this.#inFlight.set(webhookId, work);
    return work;
  }

  async #dispatch(envelope: Record<string, unknown>, info: DeliveryInfo): Promise<ReceiverResponse> {
    try {
      if (Object.hasOwn(envelope, 'type')) {
        const type = envelope.type;
        if (type !== 'gap' && type !== 'terminated') return json(400, { error: 'unknown_envelope_type' });
        await this.#o.onControl?.(envelope as Exclude<ControlEnvelope, { type: 'verification' }>, info);
      } else {
        if (typeof envelope.eventId !== 'string' || typeof envelope.name !== 'string')
          return json(400, { error: 'invalid_event' });
        await this.#o.onEvent?.(envelope as unknown as EventOccurrence, info);
      }
    } catch {
      return json(503, { error: 'not_accepted_retry_later' });
    }
    this.#remember(info.webhookId);
    return json(200, { ok: true });
  }

  #verifier(secret: string): Webhook {
    let v = this.#verifiers.get(secret);
    if (!v) {
      v = new Webhook(secret);
      if (this.#verifiers.size >= 64) this.#verifiers.clear();
      this.#verifiers.set(secret, v);
    }
    return v;
  }

  #remember(id: string): void {
    this.#seen.delete(id);
    this.#seen.set(id, Date.now() + this.#o.dedupeWindowMs);
    while (this.#seen.size > this.#o.maxDedupeEntries) {
      const oldest = this.#seen.keys().next().value as string;
      this.#seen.delete(oldest);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, expiry] of this.#seen) {
      if (expiry > now) break;
      this.#seen.delete(id);
    }
  }
}

function toResponse(r: ReceiverResponse): Response {
  return new Response(r.body, { status: r.status, headers: r.headers });
}
