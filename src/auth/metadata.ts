/**
 * RFC 9728 protected resource metadata: the document, the well-known paths it is served at (the
 * path-suffixed `/.well-known/oauth-protected-resource/<path>` and the root form), and a
 * web-standard handler any HTTP binding can mount (MCP authorization: "Authorization Server
 * Location", "Protected Resource Metadata Discovery Requirements").
 * @module
 */

/** The RFC 9728 document (section 2). */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  /** RFC 9728 section 2 / RFC 9449: present when DPoP is on. */
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  [member: string]: unknown;
}

/** What the document is built from. */
export interface MetadataSource {
  resource: string;
  issuer: string;
  scopesSupported: string[];
  dpop?: { algorithms: string[]; required: boolean };
  extra?: Record<string, unknown>;
}

/** Builds the RFC 9728 document. */
export function protectedResourceMetadata(source: MetadataSource): ProtectedResourceMetadata {
  const doc: ProtectedResourceMetadata = {
    ...source.extra,
    resource: source.resource,
    authorization_servers: [source.issuer],
    bearer_methods_supported: ['header'],
  };
  if (source.scopesSupported.length) doc.scopes_supported = [...source.scopesSupported];
  if (source.dpop) {
    doc.dpop_signing_alg_values_supported = [...source.dpop.algorithms];
    if (source.dpop.required) doc.dpop_bound_access_tokens_required = true;
  }
  return doc;
}

/**
 * The paths the document is served at for `resource`: the path-suffixed form first (RFC 9728
 * section 3.1), then the root form (the MCP client fallback), e.g. `/.well-known/oauth-protected-resource/mcp`
 * and `/.well-known/oauth-protected-resource` for `https://host/mcp`.
 */
export function protectedResourceMetadataPaths(resource: string): string[] {
  const path = new URL(resource).pathname.replace(/\/$/, '');
  const root = '/.well-known/oauth-protected-resource';
  return path ? [`${root}${path}`, root] : [root];
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': '*',
  'access-control-max-age': '86400',
};

/**
 * A `(Request) => Response | undefined` handler serving `document` at `paths`: `GET`/`HEAD` answer
 * 200 JSON (cacheable for an hour, CORS open so browser clients can discover), `OPTIONS` 204
 * (preflight), other methods 405 with `Allow`; other paths `undefined` (not ours).
 */
export function protectedResourceMetadataHandler(
  document: ProtectedResourceMetadata,
  paths: readonly string[],
): (request: Request) => Response | undefined {
  const body = JSON.stringify(document);
  const served = new Set(paths);
  return (request) => {
    let pathname: string;
    try {
      pathname = new URL(request.url).pathname;
    } catch {
      return undefined;
    }
    if (!served.has(pathname)) return undefined;
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS });
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return new Response(null, { status: 405, headers: { ...CORS, allow: 'GET, HEAD, OPTIONS' } });
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: { ...CORS, 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' },
    });
  };
}
