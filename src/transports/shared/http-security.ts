/**
 * DNS-rebinding protection and CORS for the HTTP bindings (2025-11-25 basic/transports "Security
 * Warning": servers MUST validate `Origin`, 403 when invalid; loopback servers check `Host`).
 * @module
 */

/** Options for Origin/Host validation and CORS. */
export interface HttpSecurityOptions {
  /**
   * Hosts (`name` or `name:port`) accepted in the `Host` header. Default for a loopback bind:
   * localhost, 127.0.0.1 and [::1] on any port; for other binds: any host.
   */
  allowedHosts?: string[];
  /**
   * Origins accepted in the `Origin` header (exact, e.g. `https://app.example.com`); any other
   * browser origin gets 403. Requests without `Origin` (non-browser clients) always pass. Default:
   * loopback origins on a loopback bind; on other binds only the request's own origin when its host
   * is in `allowedHosts` (none otherwise); plus any CORS origins.
   */
  allowedOrigins?: string[];
  /** CORS: origins allowed to call from a browser (`*` for any). Default: none (no CORS headers). */
  corsOrigins?: string[] | '*';
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  if (hostHeader.indexOf(':') !== hostHeader.lastIndexOf(':')) return `[${hostHeader.toLowerCase()}]`; // bare IPv6
  const colon = hostHeader.lastIndexOf(':');
  return (colon > 0 ? hostHeader.slice(0, colon) : hostHeader).toLowerCase();
}

/** True for loopback bind addresses. */
export function isLoopbackHost(host: string | undefined): boolean {
  return host === undefined || LOOPBACK.has(hostName(host)) || host.startsWith('127.');
}

/** The result of a check: undefined when allowed, else the reason. */
export type SecurityVerdict = undefined | { status: 403; message: string };

/**
 * Validates `Host` and `Origin` for one request (or WebSocket upgrade): DNS-rebinding and CSRF
 * protection on every bind.
 *
 * - `Host` must be in `allowedHosts` when set; on a loopback bind without it, a loopback name.
 * - A request with `Origin` (a browser) passes only when the origin is in `allowedOrigins` or
 *   `corsOrigins` (`*` admits any), or, without those lists matching, when it is a loopback origin
 *   on a loopback bind, or when its host is in `allowedHosts` and equals the request's `Host`
 *   (same origin, on a host the operator named). Anything else, `Origin: null` included, is 403: on
 *   a non-loopback bind a browser origin must be listed.
 * - Requests without `Origin` (non-browser clients) pass the origin check.
 *
 * @returns undefined when allowed, else 403 with the reason
 */
export function checkHostAndOrigin(
  opts: HttpSecurityOptions,
  loopbackBind: boolean,
  host: string | undefined,
  origin: string | undefined,
): SecurityVerdict {
  if (opts.allowedHosts || loopbackBind) {
    if (!host) return { status: 403, message: 'Forbidden: missing Host header' };
    if (!hostAllowed(opts, host))
      return { status: 403, message: `Forbidden: Host ${host} is not allowed (DNS rebinding protection)` };
  }
  if (origin === undefined) return undefined;
  if (origin === 'null') return { status: 403, message: 'Forbidden: opaque Origin' };
  if (opts.corsOrigins === '*') return undefined;
  if (opts.corsOrigins?.includes(origin) || opts.allowedOrigins?.includes(origin)) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return { status: 403, message: `Forbidden: invalid Origin ${origin}` };
  }
  if (!opts.allowedOrigins) {
    const sameNamedHost =
      opts.allowedHosts !== undefined &&
      host !== undefined &&
      originHost.toLowerCase() === host.toLowerCase() &&
      hostAllowed(opts, originHost);
    if ((loopbackBind && LOOPBACK.has(hostName(originHost))) || sameNamedHost) return undefined;
  }
  return {
    status: 403,
    message: `Forbidden: Origin ${origin} is not allowed (list it in allowedOrigins to admit it)`,
  };
}

function hostAllowed(opts: HttpSecurityOptions, host: string): boolean {
  if (!opts.allowedHosts) return LOOPBACK.has(hostName(host));
  const h = host.toLowerCase();
  return opts.allowedHosts.some((a) => a.toLowerCase() === h || a.toLowerCase() === hostName(host));
}

/**
 * The one stderr warning for a server bound beyond loopback with neither `allowedHosts` nor
 * authentication: what is exposed, and the options that close it. `undefined` when there is
 * nothing to warn about.
 */
export function exposureWarning(
  binding: string,
  bindHost: string,
  opts: { allowedHosts?: string[]; authenticated: boolean },
): string | undefined {
  if (isLoopbackHost(bindHost) || opts.allowedHosts || opts.authenticated) return undefined;
  return (
    `anywire: warning: the ${binding} server listens on ${bindHost} with no allowedHosts and no ` +
    'authentication: anyone who can reach this address can call every tool, and any Host header is ' +
    'accepted (browser Origins are still refused unless listed in allowedOrigins). Set allowedHosts ' +
    'to the names clients use, and an authenticator, to close it.\n'
  );
}

const ALLOWED_REQUEST_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
];

/** CORS response headers for `origin`, or none when CORS is off or the origin is not allowed. */
export function corsHeaders(opts: HttpSecurityOptions, origin: string | undefined): Record<string, string> {
  if (!origin || !opts.corsOrigins) return {};
  if (opts.corsOrigins !== '*' && !opts.corsOrigins.includes(origin)) return {};
  return {
    'access-control-allow-origin': opts.corsOrigins === '*' ? '*' : origin,
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate',
    vary: 'Origin',
  };
}

/** The preflight answer: every MCP request header, including any `Mcp-Param-*`. */
export function preflightHeaders(
  opts: HttpSecurityOptions,
  origin: string | undefined,
  requested: string | undefined,
): Record<string, string> {
  const base = corsHeaders(opts, origin);
  if (!base['access-control-allow-origin']) return {};
  const asked = (requested ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const allowed = asked.filter((h) => ALLOWED_REQUEST_HEADERS.includes(h) || h.startsWith('mcp-param-'));
  return {
    ...base,
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers': [...new Set([...ALLOWED_REQUEST_HEADERS, ...allowed])].join(', '),
    'access-control-max-age': '86400',
  };
}
