/**
 * Key names of the `anywire/redis` stores: every key starts with a prefix (default `anywire:`),
 * names its store, and puts the part that decides the Redis Cluster slot in a hash tag (`{...}`)
 * where several keys must be used together (a session's event streams and index, for instance).
 * Parts that come from the wire are escaped, so they can neither break out of a hash tag nor collide
 * with another key.
 * @module
 */

/** Default of every store's `keyPrefix`. */
export const DEFAULT_KEY_PREFIX = 'anywire:';
/** The longest `keyPrefix` accepted, in characters. */
export const MAX_KEY_PREFIX_CHARS = 128;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Escapes one key part: every character but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is percent-encoded (so
 * `{`, `}`, `:` and `%` never appear raw); lone surrogates become U+FFFD first.
 */
export function escapeKeyPart(part: string): string {
  return encodeURIComponent(part.replace(LONE_SURROGATE, '\uFFFD'));
}

/**
 * Builds the keys of one store: `<prefix><store>:<part>:<part>...`.
 * @throws TypeError when the prefix is not a string, is longer than {@link MAX_KEY_PREFIX_CHARS}, or
 * holds `{` or `}` (which would move keys to another Cluster slot)
 */
export class RedisKeys {
  readonly prefix: string;
  readonly store: string;

  constructor(store: string, prefix: string = DEFAULT_KEY_PREFIX) {
    if (typeof prefix !== 'string' || prefix.length > MAX_KEY_PREFIX_CHARS || /[{}]/.test(prefix))
      throw new TypeError(
        `anywire/redis: keyPrefix must be a string of at most ${MAX_KEY_PREFIX_CHARS} characters without { or } (got ${JSON.stringify(prefix)})`,
      );
    this.prefix = prefix;
    this.store = store;
  }

  /** `<prefix><store>:<parts joined by ':'>`; parts are used as given (escape wire data first). */
  key(...parts: string[]): string {
    return [`${this.prefix}${this.store}`, ...parts].join(':');
  }

  /** A hash tag of `part` (escaped): keys holding the same tag share a Redis Cluster slot. */
  static tag(part: string): string {
    return `{${escapeKeyPart(part)}}`;
  }

  /** The Pub/Sub channel `<prefix><store>:<name>` (channels are not keys: no TTL applies). */
  channel(name: string): string {
    return `${this.prefix}${this.store}:${name}`;
  }
}
