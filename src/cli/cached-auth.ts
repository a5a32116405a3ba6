/**
 * The credentials `anywire login` cached, for the other client commands: an `authProvider` for
 * http(s) targets (refreshing by itself), a plain `authorization` header for the other bindings.
 * Loads nothing of the OAuth client until a request needs it.
 * @module
 */
import type { FetchLike, HttpAuthProvider } from '../transports/streamable-http/client-options.js';
import type { LoginRecord } from './token-file.js';
import { FileTokenStore, loginKey } from './token-file.js';

/** The canonical resource key of a server URL (no query, no fragment). */
function resourceOf(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * The cached credentials of an http(s) `url` as the transport's `authProvider`, or `undefined` when
 * there is no login for it. The OAuth client is loaded on the first request only, and refreshes
 * (or re-runs a machine grant) by itself; an interactive login that cannot be refreshed fails with
 * a message to run `anywire login` again.
 */
export function cachedAuthProvider(
  url: URL,
  store: FileTokenStore = new FileTokenStore(),
): HttpAuthProvider | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const resource = resourceOf(url);
  const entries = store.all();
  if (!entries[`tokens ${resource}`] && !entries[loginKey(resource)]) return undefined;
  const record = entries[loginKey(resource)] as LoginRecord | undefined;
  return {
    wrapFetch(fetch: FetchLike): FetchLike {
      let wrapped: Promise<FetchLike> | undefined;
      return async (input, init) => {
        wrapped ??= Promise.all([import('../client/auth/index.js'), import('./login.js')]).then(([m, l]) =>
          new m.OAuthClientProvider({ ...l.providerOptions(record), store }).wrapFetch(fetch),
        );
        return (await wrapped)(input, init);
      };
    },
  };
}

/** The `authorization` header for a non-HTTP URL target from the cache (no refresh), if any. */
export function cachedAuthorization(
  url: URL,
  store: FileTokenStore = new FileTokenStore(),
): string | undefined {
  const tokens = store.get(`tokens ${resourceOf(url)}`) as
    { access_token?: string; token_type?: string } | undefined;
  if (typeof tokens?.access_token !== 'string' || tokens.token_type === 'dpop') return undefined;
  return `Bearer ${tokens.access_token}`;
}
