/**
 * Signed webhook delivery for MCP Events (SEP-3415 "Webhook event delivery", "Webhook security"),
 * production grade: Standard Webhooks signatures made by the `standardwebhooks` library (one
 * `v1,` signature per secret, so a rotating secret is dual-signed), `X-MCP-Subscription-Id`, bodies
 * of at most 256 KiB, bounded retries with exponential backoff that regenerate the timestamp and
 * signature, 410 and 413 never retried, redirects never followed, https only, and SSRF protection
 * at delivery time: the host is resolved, every address checked, and the connection made to the
 * checked address (SNI and `Host` keep the name). `allowInsecureWebhookTargets` permits http and
 * special-purpose addresses, for development and tests. Node-only.
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { resolveTarget, systemResolver, WebhookTargetError } from './ssrf.js';
import type { Resolver } from './ssrf.js';
import { MAX_WEBHOOK_BODY_BYTES, SUBSCRIPTION_ID_HEADER } from './types.js';
import type { DeliveryErrorCategory } from './types.js';
import { sleep } from '../protocol/sleep.js';

/** Retry policy of {@link WebhookSender.deliver}. */
export interface WebhookRetryOptions {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry, in ms. Default 1 000. */
  initialDelayMs?: number;
  /** Longest delay between attempts, in ms. Default 60 000. */
  maxDelayMs?: number;
  /** Delay multiplier per attempt. Default 2. */
  growFactor?: number;
  /** No retry starts later than this after the first attempt, in ms. Default 900 000 (15 minutes). */
  maxRetryWindowMs?: number;
}

/** Options of {@link WebhookSender}. */
export interface WebhookSenderOptions {
  /** Permit `http:` URLs and loopback, private and other special-purpose addresses. Default false. */
  allowInsecureWebhookTargets?: boolean;
  /** Resolves host names (default: the system resolver). Tests stub it. */
  resolver?: Resolver;
  /** Time allowed for one attempt, connection to response, in ms. Default 5 000. */
  timeoutMs?: number;
  /** Largest body sent, in bytes. Default 256 KiB (SEP-3415 delivery profile). */
  maxBodyBytes?: number;
  /** Most bytes of a response read (the verification echo); the rest is discarded. Default 64 KiB. */
  maxResponseBytes?: number;
  /** Retry policy. */
  retry?: WebhookRetryOptions;
  /** Extra certificate authorities trusted for https targets (a private PKI, tests). */
  ca?: string | Buffer | (string | Buffer)[];
  /** The `User-Agent` header. Default `anywire-webhooks`. */
  userAgent?: string;
}

/** One delivery: a signed POST of `body` to `url`. */
export interface WebhookMessage {
  url: string;
  /** The `webhook-id`: the event id, or `msg_<type>_<random>` for a control envelope. */
  webhookId: string;
  /** The `X-MCP-Subscription-Id`. */
  subscriptionId: string;
  /** The JSON body, sent byte for byte as signed. */
  body: string;
  /** `whsec_` secrets, current first; every one signs (dual signatures while a secret rotates). */
  secrets: readonly string[];
}

/** The outcome of one attempt or of a whole delivery. */
export type DeliveryResult =
  | { ok: true; status: number; body: string; attempts: number }
  | {
      ok: false;
      /** A category only, never the endpoint's raw answer. */
      reason: DeliveryErrorCategory;
      /** Whether another attempt may succeed (false for 410, 413, redirects, refused targets). */
      retryable: boolean;
      status?: number;
      /** For logs: what happened, in our words. */
      message: string;
      attempts: number;
    };

/** Keep-alive connections per checked address. */
const MAX_SOCKETS_PER_ADDRESS = 64;
/** Checked addresses with pooled connections (least recently used closed first). */
const MAX_POOLED_ADDRESSES = 256;

const DEFAULTS = { timeoutMs: 5000, maxResponseBytes: 64 * 1024, userAgent: 'anywire-webhooks' };
const RETRY_DEFAULTS: Required<WebhookRetryOptions> = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  growFactor: 2,
  maxRetryWindowMs: 900_000,
};

function check(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isFinite(value) || value < min))
    throw new RangeError(`anywire: ${name} must be a number >= ${min}, got ${value}`);
}

const TLS_CODES =
  /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_OSSL|HOSTNAME_MISMATCH)/;

function categorize(error: NodeJS.ErrnoException): DeliveryErrorCategory {
  if (error.code === 'ETIMEDOUT' || error.message === 'timeout') return 'timeout';
  if (error.code && TLS_CODES.test(error.code)) return 'tls_error';
  return 'connection_refused';
}

/** Sends signed webhook deliveries. See the module docs. */
export class WebhookSender {
  readonly #o: WebhookSenderOptions & typeof DEFAULTS & { maxBodyBytes: number };
  readonly #retry: Required<WebhookRetryOptions>;
  readonly #resolver: Resolver;
  readonly #signers = new Map<string, Webhook>();
  /** Keep-alive agents, one per checked address: a pooled connection is reused only for that address. */
  readonly #agents = new Map<string, http.Agent>();

  /** @throws RangeError for an out-of-range limit */
  constructor(options: WebhookSenderOptions = {}) {
    check('timeoutMs', options.timeoutMs, 1);
    check('maxBodyBytes', options.maxBodyBytes, 1);
    check('maxResponseBytes', options.maxResponseBytes, 1);
    const r = options.retry ?? {};
    check('retry.maxAttempts', r.maxAttempts, 1);
    check('retry.initialDelayMs', r.initialDelayMs, 0);
    check('retry.maxDelayMs', r.maxDelayMs, 0);
    check('retry.growFactor', r.growFactor, 1);
    check('retry.maxRetryWindowMs', r.maxRetryWindowMs, 0);
    this.#o = { ...DEFAULTS, maxBodyBytes: MAX_WEBHOOK_BODY_BYTES, ...options };
    this.#retry = { ...RETRY_DEFAULTS, ...r };
    this.#resolver = options.resolver ?? systemResolver;
  }

  /**
   * Checks a callback URL's form (subscribe time): absolute, https (or http when insecure targets
   * are allowed), no credentials. Addresses are checked again at every delivery.
   * @returns undefined when acceptable, else the reason
   */
  checkUrl(url: string): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return 'not an absolute URL';
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && this.#o.allowInsecureWebhookTargets))
      return 'callback URLs must use https';
    if (u.username || u.password) return 'callback URLs must not carry credentials';
    return undefined;
  }

  /** One attempt, signed now. Never throws. */
  async attempt(message: WebhookMessage, signal?: AbortSignal): Promise<DeliveryResult> {
    const fail = (reason: DeliveryErrorCategory, retryable: boolean, msg: string, status?: number) =>
      ({ ok: false, reason, retryable, message: msg, attempts: 1, ...(status ? { status } : {}) }) as const;
    const bad = this.checkUrl(message.url);
    if (bad) return fail('connection_refused', false, `refused target: ${bad}`);
    const bytes = Buffer.byteLength(message.body);
    if (bytes > this.#o.maxBodyBytes)
      return fail('http_4xx', false, `body of ${bytes} bytes is over maxBodyBytes ${this.#o.maxBodyBytes}`);
    const u = new URL(message.url);
    let target;
    try {
      target = await resolveTarget(u.hostname, this.#resolver, this.#o.allowInsecureWebhookTargets === true);
    } catch (e) {
      const retryable = !(e instanceof WebhookTargetError && e.message.startsWith('refused'));
      return fail('connection_refused', retryable, (e as Error).message);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(bytes),
      'user-agent': this.#o.userAgent,
      'webhook-id': message.webhookId,
      'webhook-timestamp': '',
      'webhook-signature': '',
      [SUBSCRIPTION_ID_HEADER]: message.subscriptionId,
    };
    const now = new Date();
    headers['webhook-timestamp'] = String(Math.floor(now.getTime() / 1000));
    headers['webhook-signature'] = message.secrets
      .map((s) => this.#signer(s).sign(message.webhookId, now, message.body))
      .join(' ');
    try {
      const res = await this.#post(u, target, headers, message.body, signal);
      if (res.status >= 200 && res.status < 300) return { ok: true, ...res, attempts: 1 };
      const s = res.status;
      const retryable = s !== 410 && s !== 413 && !(s >= 300 && s < 400);
      return fail(s >= 500 ? 'http_5xx' : 'http_4xx', retryable, `endpoint answered ${s}`, s);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return fail(categorize(err), true, err.message);
    }
  }

  /**
   * Delivers with retries: backoff grows by `growFactor` from `initialDelayMs` up to `maxDelayMs`,
   * each attempt newly timestamped and signed, until success, a non-retryable answer, `maxAttempts`
   * or `maxRetryWindowMs`. Resolves to the last attempt's result with the attempt count.
   */
  async deliver(
    message: WebhookMessage,
    options: { signal?: AbortSignal; onAttempt?: (r: DeliveryResult, attempt: number) => void } = {},
  ): Promise<DeliveryResult> {
    const started = Date.now();
    let delay = this.#retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      const r = await this.attempt(message, options.signal);
      r.attempts = attempt;
      options.onAttempt?.(r, attempt);
      if (r.ok || !r.retryable || attempt >= this.#retry.maxAttempts || options.signal?.aborted) return r;
      const wait = Math.min(delay, this.#retry.maxDelayMs) * (0.8 + 0.4 * Math.random());
      if (Date.now() + wait - started > this.#retry.maxRetryWindowMs) return r;
      await sleep(wait, options.signal);
      delay *= this.#retry.growFactor;
    }
  }

  /**
   * The endpoint verification handshake (SEP-3415): POSTs a signed `verification` envelope with a
   * single-use challenge and succeeds only when a 2xx body echoes it (compared in constant time).
   * One attempt, no retries: it runs inside `events/subscribe`.
   */
  async verifyEndpoint(target: {
    url: string;
    subscriptionId: string;
    secrets: readonly string[];
  }): Promise<{ ok: true } | { ok: false; reason: DeliveryErrorCategory; message: string }> {
    const challenge = randomBytes(32).toString('base64url');
    const r = await this.attempt({
      ...target,
      webhookId: `msg_verification_${randomBytes(12).toString('hex')}`,
      body: JSON.stringify({ type: 'verification', challenge }),
    });
    if (!r.ok) {
      if (r.status !== undefined) return { ok: false, reason: 'challenge_failed', message: r.message };
      return { ok: false, reason: r.reason, message: r.message };
    }
    let echoed: unknown;
    try {
      echoed = (JSON.parse(r.body) as { challenge?: unknown }).challenge;
    } catch {}
    const a = Buffer.from(typeof echoed === 'string' ? echoed : '');
    const b = Buffer.from(challenge);
    if (a.length === b.length && timingSafeEqual(a, b)) return { ok: true };
    return { ok: false, reason: 'challenge_failed', message: 'the endpoint did not echo the challenge' };
  }

  #signer(secret: string): Webhook {
    let s = this.#signers.get(secret);
    if (!s) {
      s = new Webhook(secret);
      if (this.#signers.size >= 1024) this.#signers.clear();
      this.#signers.set(secret, s);
    }
    return s;
  }

  #agent(secure: boolean, address: string): http.Agent {
    const key = `${secure ? 's' : 'p'}|${address}`;
    let agent = this.#agents.get(key);
    if (agent) {
      this.#agents.delete(key); // most recently used last
    } else {
      const o = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_ADDRESS, timeout: this.#o.timeoutMs };
      agent = secure ? new https.Agent(o) : new http.Agent(o);
      if (this.#agents.size >= MAX_POOLED_ADDRESSES) {
        const [oldKey, oldest] = this.#agents.entries().next().value as [string, http.Agent];
        this.#agents.delete(oldKey);
        oldest.destroy();
      }
    }
    this.#agents.set(key, agent);
    return agent;
  }

  /** Closes pooled keep-alive connections. */
  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }

  #post(
    u: URL,
    target: { address: string; family: 4 | 6 },
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; body: string }> {
    const secure = u.protocol === 'https:';
    const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    // Connect to the address that was checked, whatever DNS says now (no rebinding window).
    const lookup: LookupFunction = (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all)
        (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
      else cb(null, target.address, target.family);
    };
    const options: https.RequestOptions = {
      method: 'POST',
      hostname,
      port: u.port || (secure ? 443 : 80),
      path: `${u.pathname}${u.search}`,
      headers,
      lookup,
      agent: this.#agent(secure, target.address),
      ...(secure && !isIP(hostname) ? { servername: hostname } : {}),
      ...(secure && this.#o.ca ? { ca: this.#o.ca } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < this.#o.maxResponseBytes) chunks.push(c.subarray(0, this.#o.maxResponseBytes - size));
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      const timer = setTimeout(() => req.destroy(new Error('timeout')), this.#o.timeoutMs);
      const onAbort = () => req.destroy(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.end(body);
    });
  }
}
