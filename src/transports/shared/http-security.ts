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
   * Origins accepted in the `Origin` header (exact, e.g. `https://app.example.com`). Requests
   * without `Origin` (non-browser clients) always pass. Default: loopback origins for a loopback
   * bind, the request's own host otherwise, plus any CORS origins.
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

/** Validates `Host` and `Origin` for one request. */
export function checkHostAndOrigin(
  opts: HttpSecurityOptions,
  loopbackBind: boolean,
  host: string | undefined,
  origin: string | undefined,
): SecurityVerdict {
  if (opts.allowedHosts || loopbackBind) {
    if (!host) return { status: 403, message: 'Forbidden: missing Host header' };
    const allowed = opts.allowedHosts
      ? opts.allowedHosts.some(
          (h) => h.toLowerCase() === host.toLowerCase() || h.toLowerCase() === hostName(host),
        )
      : LOOPBACK.has(hostName(host));
    if (!allowed)
      return { status: 403, message: `Forbidden: Host ${host} is not allowed (DNS rebinding protection)` };
  }
  if (origin !== undefined && origin !== 'null') {
    if (opts.corsOrigins === '*') return undefined;
    if (opts.corsOrigins?.includes(origin) || opts.allowedOrigins?.includes(origin)) return undefined;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return { status: 403, message: `Forbidden: invalid Origin ${origin}` };
    }
    if (opts.allowedOrigins) return { status: 403, message: `Forbidden: Origin ${origin} is not allowed` };
    const ok = loopbackBind
      ? LOOPBACK.has(hostName(originHost))
      : host !== undefined && originHost.toLowerCase() === host.toLowerCase();
    if (!ok) return { status: 403, message: `Forbidden: Origin ${origin} is not allowed` };
  } else if (origin === 'null') {
    return { status: 403, message: 'Forbidden: opaque Origin' };
  }
  return undefined;
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
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version',
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
