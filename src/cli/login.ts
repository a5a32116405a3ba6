/**
 * `anywire login <URL>` and `anywire logout <URL>`, and the cached credentials the other client
 * commands use. Login runs the authorization code flow in the user's browser (the URL is printed,
 * and opened with `xdg-open`/`open` where one exists) and takes the code on a loopback redirect
 * (`http://127.0.0.1:<port 0>/callback`, RFC 8252 §7.3); or a machine grant (`--client-credentials`,
 * `--assertion-file`). Tokens land in the token file (see token-file.ts).
 * @module
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClientProviderOptions } from '../client/auth/types.js';
import type { LoginRecord } from './token-file.js';
import { FileTokenStore, loginKey } from './token-file.js';

/** Options of {@link login}. */
export interface LoginOptions {
  clientId?: string;
  clientSecret?: string;
  clientMetadataUrl?: string;
  clientCredentials?: boolean;
  assertionFile?: string;
  dpop?: boolean;
  scope?: string;
  /** How long to wait for the browser to come back, in ms (1 000-3 600 000). Default 300 000. */
  timeoutMs?: number;
  /** Don't try to open a browser. */
  noBrowser?: boolean;
  /** Where to write messages. Default process.stderr. */
  stderr?: NodeJS.WritableStream;
  /** The token file. Default: the user's. */
  store?: FileTokenStore;
}

/** The canonical resource key of a server URL (no query, no fragment). */
function resourceOf(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Provider options for a recorded login (machine grants re-run without a user). */
export function providerOptions(record: LoginRecord | undefined): OAuthClientProviderOptions {
  const options: OAuthClientProviderOptions = { grant: record?.grant ?? 'authorization_code' };
  if (record?.client_id !== undefined) options.clientId = record.client_id;
  if (record?.client_secret !== undefined) options.clientSecret = record.client_secret;
  if (record?.client_metadata_url !== undefined) options.clientMetadataUrl = record.client_metadata_url;
  if (record?.dpop !== undefined) options.dpop = record.dpop;
  const file = record?.assertion_file;
  if (file !== undefined) options.assertion = () => readFileSync(file, 'utf8').trim();
  return options;
}

/** Opens `url` in a browser when an opener exists; never fails. */
function openBrowser(url: string): void {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {}); // no opener here: the printed URL is enough
    child.unref();
  } catch {
    // as above
  }
}

/** A loopback HTTP server that resolves with the first `/callback` request's URL. */
async function loopback(
  timeoutMs: number,
): Promise<{ redirectUrl: string; callback: Promise<URL>; close(): void }> {
  let deliver!: (url: URL) => void;
  let fail!: (error: Error) => void;
  const callback = new Promise<URL>((resolve, reject) => {
    deliver = resolve;
    fail = reject;
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const ok = url.searchParams.has('code');
    res.writeHead(ok ? 200 : 400, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><p>${ok ? 'anywire is logged in. You can close this window.' : 'Authorization failed.'}</p>`,
    );
    deliver(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const timer = setTimeout(
    () => fail(new Error(`no answer from the browser within ${timeoutMs} ms`)),
    timeoutMs,
  );
  timer.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUrl: `http://127.0.0.1:${port}/callback`,
    callback,
    close: () => {
      clearTimeout(timer);
      server.close();
      server.closeAllConnections();
    },
  };
}

/**
 * Logs in to the MCP server at `serverUrl` and caches the tokens.
 * @throws RangeError for a timeout outside 1 000-3 600 000 ms; the OAuth client's errors
 */
export async function login(serverUrl: string, options: LoginOptions = {}): Promise<void> {
  const url = new URL(serverUrl);
  const stderr = options.stderr ?? process.stderr;
  const timeoutMs = options.timeoutMs ?? 300_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000 || timeoutMs > 3_600_000)
    throw new RangeError(`timeoutMs must be an integer from 1000 to 3600000, got ${timeoutMs}`);
  const store = options.store ?? new FileTokenStore();
  const record: LoginRecord = {
    grant: options.clientCredentials
      ? 'client_credentials'
      : options.assertionFile
        ? 'jwt_bearer'
        : 'authorization_code',
  };
  if (options.clientId !== undefined) record.client_id = options.clientId;
  if (options.clientSecret !== undefined) record.client_secret = options.clientSecret;
  if (options.clientMetadataUrl !== undefined) record.client_metadata_url = options.clientMetadataUrl;
  if (options.assertionFile !== undefined) record.assertion_file = options.assertionFile;
  if (options.dpop !== undefined) record.dpop = options.dpop;
  const { OAuthClientProvider, challengeOf } = await import('../client/auth/index.js');
  const flow = record.grant === 'authorization_code' ? await loopback(timeoutMs) : undefined;
  try {
    const provider = new OAuthClientProvider({
      ...providerOptions(record),
      store,
      ...(options.scope ? { scope: options.scope } : {}),
      clientMetadata: { client_name: 'anywire CLI', application_type: 'native' },
      ...(flow
        ? {
            redirectUrl: flow.redirectUrl,
            redirect: (authorizationUrl: URL) => {
              stderr.write(`Open this URL in a browser to log in:\n\n  ${authorizationUrl.href}\n\n`);
              if (!options.noBrowser) openBrowser(authorizationUrl.href);
              return flow.callback;
            },
          }
        : {}),
    });
    // Ask the server first: its challenge names the metadata and the scope it wants.
    const probe = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
    }).catch(() => undefined);
    const challenge =
      probe && (probe.status === 401 || probe.status === 403) ? await challengeOf(probe) : undefined;
    await probe?.body?.cancel().catch(() => {});
    if (probe?.ok) {
      stderr.write(`${resourceOf(url)} answered without asking for authorization: nothing to log in to\n`);
      return;
    }
    const tokens = await provider.authorize(url, challenge ?? {});
    store.set(loginKey(resourceOf(url)), { ...record });
    stderr.write(
      `Logged in to ${resourceOf(url)} at ${tokens.issuer}${tokens.scope ? ` (scope: ${tokens.scope})` : ''}; tokens cached in ${store.path}\n`,
    );
  } finally {
    flow?.close();
  }
}

/** Forgets the tokens and the login of `serverUrl`; returns whether there was anything to forget. */
export function logout(serverUrl: string, store: FileTokenStore = new FileTokenStore()): boolean {
  const resource = resourceOf(new URL(serverUrl));
  const had = store.get(`tokens ${resource}`) !== undefined || store.get(loginKey(resource)) !== undefined;
  store.delete(`tokens ${resource}`);
  store.delete(loginKey(resource));
  return had;
}
