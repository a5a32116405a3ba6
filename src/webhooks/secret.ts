/**
 * Standard Webhooks symmetric secrets as MCP Events uses them (SEP-3415 "Secret generation"):
 * `whsec_` followed by the base64 encoding of 24 to 64 random bytes, supplied by the client.
 * Runtime-neutral.
 * @module
 */

/** The prefix of a Standard Webhooks symmetric secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Fewest secret bytes accepted (SEP-3415). */
export const WEBHOOK_SECRET_MIN_BYTES = 24;
/** Most secret bytes accepted (SEP-3415). */
export const WEBHOOK_SECRET_MAX_BYTES = 64;
/** Secret bytes {@link generateWebhookSecret} makes by default. */
export const DEFAULT_WEBHOOK_SECRET_BYTES = 32;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * True when `value` is `whsec_` + canonical base64 of 24 to 64 bytes. Servers answer anything else
 * with -32602 (InvalidParams) on `events/subscribe`.
 */
export function isWebhookSecret(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith(WEBHOOK_SECRET_PREFIX)) return false;
  const b64 = value.slice(WEBHOOK_SECRET_PREFIX.length);
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) return false;
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  const bytes = (b64.length / 4) * 3 - padding;
  return bytes >= WEBHOOK_SECRET_MIN_BYTES && bytes <= WEBHOOK_SECRET_MAX_BYTES;
}

/**
 * Makes a fresh secret from the platform CSPRNG (`crypto.getRandomValues`).
 * @param bytes secret length in bytes, 24 to 64 (default 32)
 * @throws RangeError for a length outside 24..64
 */
export function generateWebhookSecret(bytes = DEFAULT_WEBHOOK_SECRET_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < WEBHOOK_SECRET_MIN_BYTES || bytes > WEBHOOK_SECRET_MAX_BYTES) {
    throw new RangeError(
      `anywire: webhook secret bytes must be an integer from ${WEBHOOK_SECRET_MIN_BYTES} to ${WEBHOOK_SECRET_MAX_BYTES}`,
    );
  }
  const raw = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(raw);
  let bin = '';
  for (const b of raw) bin += String.fromCharCode(b);
  return WEBHOOK_SECRET_PREFIX + btoa(bin);
}
