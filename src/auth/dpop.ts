/**
 * DPoP proofs (RFC 9449 section 4.3) for HTTP requests and the WebSocket upgrade: one proof, a
 * `dpop+jwt` signed with an allowed asymmetric algorithm by the public key it embeds (jose
 * `EmbeddedJWK`), `htm` = the request method, `htu` = the request URL without query and fragment
 * (compared after URL normalization; `ws:`/`wss:` count as `http:`/`https:`), `iat` within
 * `iatWindowSec` either way, `ath` = SHA-256 of the access token, the key's thumbprint = the
 * token's `cnf.jkt`, a server nonce when configured (section 9), and each `jti` accepted once.
 * @module
 */
import { calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify } from 'jose';
import type { Challenges } from './challenges.js';
import { randomBase64Url, sha256Base64Url } from './encoding.js';
import type { ReplayCache } from '../protocol/replay-cache.js';
import { InMemoryReplayCache } from './replay-cache.js';
import type { ResolvedDpopOptions } from './options.js';

/** What a proof is checked against. */
export interface ProofContext {
  /** The `DPoP` header value. */
  proof: string;
  /** The request method (`POST`; `GET` for a WebSocket upgrade). */
  method: string | undefined;
  /** The absolute request URL. */
  url: string | undefined;
  /** The access token the proof accompanies. */
  token: string;
  /** The token's `cnf.jkt`. */
  jkt: string;
}

const MAX_JTI_CHARS = 256;
const MAX_DIGEST_CHARS = 1024;

/** `url` without query and fragment, scheme and host normalized; `undefined` if not a URL. */
export function normalizeHtu(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  u.search = '';
  u.hash = '';
  return u.href;
}

/** Server nonces: random, rotated every `lifetimeSec`; the current and the previous one are accepted. */
class Nonces {
  readonly #lifetimeMs: number;
  readonly #now: () => number;
  #current = randomBase64Url(16);
  #previous?: string;
  #rotatedAtMs: number;

  constructor(lifetimeSec: number, now: () => number) {
    this.#lifetimeMs = lifetimeSec * 1000;
    this.#now = now;
    this.#rotatedAtMs = now();
  }

  current(): string {
    const age = this.#now() - this.#rotatedAtMs;
    if (age >= this.#lifetimeMs) {
      this.#previous = age >= 2 * this.#lifetimeMs ? undefined : this.#current;
      this.#current = randomBase64Url(16);
      this.#rotatedAtMs = this.#now();
    }
    return this.#current;
  }

  valid(nonce: unknown): boolean {
    const current = this.current();
    return typeof nonce === 'string' && (nonce === current || nonce === this.#previous);
  }
}

/** Verifies DPoP proofs for one resource server. */
export class DpopVerifier {
  readonly #o: ResolvedDpopOptions;
  readonly #challenges: Challenges;
  readonly #now: () => number;
  readonly #replay: ReplayCache;
  readonly #nonces?: Nonces;

  constructor(options: ResolvedDpopOptions, challenges: Challenges, now: () => number) {
    this.#o = options;
    this.#challenges = challenges;
    this.#now = now;
    this.#replay = options.replayCache ?? new InMemoryReplayCache(options.maxReplayEntries, now);
    if (options.nonce) this.#nonces = new Nonces(options.nonceLifetimeSec, now);
  }

  /** The nonce clients must put in proofs now (`DPoP-Nonce`), when nonces are on. */
  nonce(): string | undefined {
    return this.#nonces?.current();
  }

  /**
   * Checks the proof; throws the {@link AuthError} 401 `invalid_dpop_proof` or `use_dpop_nonce`.
   * Resolves to the proof's `content_digest` claim (MCP DPoP profile), if it has one.
   */
  async verify(c: ProofContext): Promise<string | undefined> {
    const fail = (why: string) => this.#challenges.invalidDpopProof(why);
    // Several DPoP headers arrive joined with commas; a compact JWS has none (section 4.3 step 1).
    if (c.proof.includes(',')) throw fail('exactly one DPoP proof is required');
    let payload: Record<string, unknown>;
    let jwk: Parameters<typeof calculateJwkThumbprint>[0];
    try {
      const verified = await jwtVerify(c.proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: this.#o.algorithms,
        requiredClaims: ['jti', 'htm', 'htu', 'iat'],
        currentDate: new Date(this.#now()),
      });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk!;
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError)
        throw fail(`DPoP proof invalid (${error.message})`);
      throw error;
    }
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > MAX_JTI_CHARS)
      throw fail('DPoP proof jti invalid');
    if (c.method === undefined || payload.htm !== c.method)
      throw fail('DPoP proof htm does not match the request');
    const htu = typeof payload.htu === 'string' ? normalizeHtu(payload.htu) : undefined;
    if (c.url === undefined || htu === undefined || htu !== normalizeHtu(c.url))
      throw fail('DPoP proof htu does not match the request URL');
    const nowSec = this.#now() / 1000;
    const iat = payload.iat as number;
    if (Math.abs(nowSec - iat) > this.#o.iatWindowSec)
      throw fail('DPoP proof iat outside the accepted window');
    if (this.#nonces && !this.#nonces.valid(payload.nonce))
      throw this.#challenges.useDpopNonce(this.#nonces.current());
    const digest = payload.content_digest;
    if (digest !== undefined && (typeof digest !== 'string' || digest.length > MAX_DIGEST_CHARS))
      throw fail('DPoP proof content_digest invalid');
    if (digest === undefined && this.#o.contentDigest)
      throw fail('DPoP proof content_digest is required (MCP DPoP profile)');
    if (payload.ath !== (await sha256Base64Url(c.token)))
      throw fail('DPoP proof ath does not match the access token');
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    if (thumbprint !== c.jkt)
      throw this.#challenges.invalidToken(
        'the DPoP proof key is not the key the token is bound to (cnf.jkt)',
        true,
      );
    const key = `${thumbprint}:${payload.jti}`;
    const untilMs = (iat + this.#o.iatWindowSec) * 1000 + 1000;
    if (!(await this.#replay.checkAndStore(key, untilMs))) throw fail('DPoP proof replayed');
    return digest;
  }
}

/**
 * Whether `contentDigest` (an RFC 9530 `Content-Digest` value, e.g. `sha-256=:X48E…=:`) lists the
 * SHA-256 of `body`. Other algorithms in the list are ignored; without a `sha-256` member, false.
 */
export async function contentDigestMatches(
  contentDigest: string,
  body: string | Uint8Array,
): Promise<boolean> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  const expected = btoa(String.fromCharCode(...digest));
  for (const member of contentDigest.split(',')) {
    const m = /^\s*sha-256=:([A-Za-z0-9+/]+=*):\s*$/i.exec(member);
    if (m) return m[1] === expected;
  }
  return false;
}
