/**
 * The default {@link TokenStore}: a null-prototype map in memory, lost with the process.
 * @module
 */
import type { StoredValue, TokenStore } from './types.js';

/** Keeps tokens and registrations in memory (values are copied in and out, so callers cannot alias them). */
export class InMemoryTokenStore implements TokenStore {
  readonly #values = new Map<string, string>();

  /** The value under `key`, as a fresh copy. */
  get(key: string): StoredValue | undefined {
    const raw = this.#values.get(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as StoredValue);
  }

  /** Stores a copy of `value` under `key`. */
  set(key: string, value: StoredValue): void {
    this.#values.set(key, JSON.stringify(value));
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#values.delete(key);
  }
}

/** The store key of the tokens for a resource. */
export function tokensKey(resource: string): string {
  return `tokens ${resource}`;
}

/** The store key of the client registered with an authorization server. */
export function clientKey(issuer: string): string {
  return `client ${issuer}`;
}
