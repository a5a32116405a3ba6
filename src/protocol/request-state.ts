/**
 * Sealing of MRTR `requestState` (2026-07-28 basic/patterns/mrtr "Security": the server MUST treat
 * `requestState` as attacker-controlled and SHOULD bind principal, expiry and request digest).
 * Format: `v1.<keyId>.<base64url(payload JSON)>.<base64url(HMAC-SHA256)>`. Uses Web Crypto, so it
 * runs on any runtime.
 * @module
 */
import type { KeyRing, StateKey } from './stores.js';
import type { JsonObject } from './types.js';

/** What a sealed state carries. */
export interface StatePayload {
  /** Expiry, ms since the epoch. */
  exp: number;
  /** Principal the state is bound to ('' when anonymous). */
  sub: string;
  /** Digest of the request it belongs to (method + target + arguments). */
  dig: string;
  /** Application data. */
  data: JsonObject;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const keyCache = new WeakMap<StateKey, Promise<CryptoKey>>();

function importKey(k: StateKey): Promise<CryptoKey> {
  let p = keyCache.get(k);
  if (!p) {
    const raw = typeof k.secret === 'string' ? enc.encode(k.secret) : k.secret;
    p = globalThis.crypto.subtle.importKey(
      'raw',
      raw as BufferSource,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    keyCache.set(k, p);
  }
  return p;
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes unpadded base64url, accepting only the canonical encoding: the alphabet only, no padding,
 * and unused trailing bits zero (so each byte string has exactly one accepted spelling).
 * @throws TypeError on anything else
 */
function fromB64url(s: string): Uint8Array {
  if (!B64URL.test(s) || s.length % 4 === 1) throw new TypeError('not canonical base64url');
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  if (b64url(out) !== s) throw new TypeError('not canonical base64url');
  return out;
}

/** SHA-256 of a string, base64url. */
export async function digest(text: string): Promise<string> {
  const h = await globalThis.crypto.subtle.digest('SHA-256', enc.encode(text));
  return b64url(new Uint8Array(h));
}

/** Seals a payload with the ring's first key. */
export async function sealState(ring: KeyRing, payload: StatePayload): Promise<string> {
  const keys = await ring.keys();
  const k = keys[0];
  if (!k) throw new Error('anywire: the requestState key ring is empty');
  const body = b64url(enc.encode(JSON.stringify(payload)));
  const signed = `v1.${k.id}.${body}`;
  const mac = await globalThis.crypto.subtle.sign('HMAC', await importKey(k), enc.encode(signed));
  return `${signed}.${b64url(new Uint8Array(mac))}`;
}

/** Why a state was refused. */
export type OpenStateFailure =
  'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'wrong-principal' | 'wrong-request';

/**
 * Verifies and opens a sealed state. Checks the form (four dot-separated parts, each base64url part
 * in its one canonical spelling: a changed character is never accepted), the signature
 * (constant-time, by Web Crypto), the expiry, the principal and the request digest. Never throws.
 */
export async function openState(
  ring: KeyRing,
  sealed: string,
  expect: { sub: string; dig: string; now?: number },
): Promise<{ ok: true; payload: StatePayload } | { ok: false; why: OpenStateFailure }> {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return { ok: false, why: 'malformed' };
  const [, kid, body, mac] = parts as [string, string, string, string];
  const k = (await ring.keys()).find((x) => x.id === kid);
  if (!k) return { ok: false, why: 'unknown-key' };
  let payload: StatePayload;
  try {
    const ok = await globalThis.crypto.subtle.verify(
      'HMAC',
      await importKey(k),
      fromB64url(mac) as BufferSource,
      enc.encode(`v1.${kid}.${body}`),
    );
    if (!ok) return { ok: false, why: 'bad-signature' };
    payload = JSON.parse(dec.decode(fromB64url(body))) as StatePayload;
  } catch {
    return { ok: false, why: 'malformed' };
  }
  if (typeof payload !== 'object' || payload === null) return { ok: false, why: 'malformed' };
  if (typeof payload.exp !== 'number' || payload.exp < (expect.now ?? Date.now()))
    return { ok: false, why: 'expired' };
  if (payload.sub !== expect.sub) return { ok: false, why: 'wrong-principal' };
  if (payload.dig !== expect.dig) return { ok: false, why: 'wrong-request' };
  return { ok: true, payload };
}
