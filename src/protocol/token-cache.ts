/**
 * The token cache: what an authorization server answered about an access token (an RFC 7662
 * introspection response), shared by every process so a token introspected by one is not
 * introspected again by the others while the answer is fresh.
 * @module
 */

/**
 * Keeps short-lived answers about tokens, shared between processes (Redis `SET PX` in
 * `anywire/redis`). Keys are hashes of the token (base64url SHA-256 of the issuer and the token),
 * never the token itself; values are opaque strings the resource server wrote (JSON) and
 * validates on read, so garbage reads as a miss.
 */
export interface TokenCache {
  /**
   * The value stored under `key`, or `undefined` when there is none (or it expired).
   * @throws when the backend is unreachable (the resource server then asks the authorization
   * server, as on a miss)
   */
  get(key: string): Promise<string | undefined> | string | undefined;
  /**
   * Stores `value` under `key` until `untilMs` (ms since the epoch; a time already past stores
   * nothing).
   * @throws when the backend is unreachable (the answer is then kept by this process only)
   */
  set(key: string, value: string, untilMs: number): Promise<void> | void;
}
