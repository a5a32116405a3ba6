/**
 * Hashing for token cache keys, DPoP `ath` (RFC 9449 section 4.2) and nonces, through Web Crypto
 * (`crypto.subtle`), so it runs on Node, Deno, Bun, Workers and browsers alike.
 * @module
 */
import { base64url } from 'jose';

const encoder = new TextEncoder();

/** base64url (no padding) of the SHA-256 of the UTF-8 bytes of `text`. */
export async function sha256Base64Url(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text));
  return base64url.encode(new Uint8Array(digest));
}

/** `bytes` random bytes as base64url (no padding). */
export function randomBase64Url(bytes: number): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}
