/**
 * Hashing for token cache keys, DPoP `ath` (RFC 9449 section 4.2) and nonces. Web Crypto
 * (`crypto.subtle`) everywhere; on Node, where `crypto.subtle.digest` is a thread-pool round trip,
 * the synchronous `createHash` of the built-in crypto module is taken through
 * `process.getBuiltinModule` (no `node:` import, so bundles for browsers and Workers stay clean).
 * @module
 */
import { base64url } from 'jose';

const encoder = new TextEncoder();

type NodeHash = { update(data: string): NodeHash; digest(encoding: 'base64url'): string };
type NodeCrypto = { createHash(algorithm: 'sha256'): NodeHash };

/** Node's `createHash`, when this runtime has `process.getBuiltinModule` (Node >= 20.16). */
const nodeCrypto: NodeCrypto | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    return typeof mod?.createHash === 'function' ? mod : undefined;
  } catch {
    return undefined;
  }
})();

/** base64url (no padding) of the SHA-256 of the UTF-8 bytes of `text`. */
export async function sha256Base64Url(text: string): Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(text).digest('base64url');
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text));
  return base64url.encode(new Uint8Array(digest));
}

/** `bytes` random bytes as base64url (no padding). */
export function randomBase64Url(bytes: number): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}
