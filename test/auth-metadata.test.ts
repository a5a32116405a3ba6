/**
 * RFC 9728 protected resource metadata: the document, the well-known paths (path-suffixed and
 * root), the web-standard handler the HTTP binding mounts; and that `anywire/auth` stays
 * runtime-neutral (no Node builtins in its import graph).
 */
import { build } from 'esbuild';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  oauthResourceServer,
  protectedResourceMetadataPaths,
  wellKnownMetadataUrl,
} from '../src/auth/index.js';
import { ROOT } from './helpers.js';

describe('protected resource metadata (RFC 9728)', () => {
  const server = oauthResourceServer({
    issuer: 'https://auth.example.test',
    resource: 'https://mcp.example.test/mcp',
    requiredScopes: ['mcp:read'],
    scopesSupported: ['mcp:read', 'mcp:write'],
    dpop: { algorithms: ['ES256', 'EdDSA'] },
    metadata: { resource_name: 'Example' },
  });

  it('lists the authorization server, resource, scopes, bearer methods and DPoP algorithms', () => {
    expect(server.metadata).toEqual({
      resource: 'https://mcp.example.test/mcp',
      authorization_servers: ['https://auth.example.test'],
      scopes_supported: ['mcp:read', 'mcp:write'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      resource_name: 'Example',
    });
    expect(server.resourceMetadataUrl).toBe(
      'https://mcp.example.test/.well-known/oauth-protected-resource/mcp',
    );
  });

  it('is served at the path-suffixed and the root well-known paths', async () => {
    expect(server.metadataPaths).toEqual([
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]);
    for (const path of server.metadataPaths) {
      const res = server.handleMetadataRequest(new Request(`http://127.0.0.1:8080${path}`))!;
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual(server.metadata);
    }
    const preflight = server.handleMetadataRequest(
      new Request('http://h/.well-known/oauth-protected-resource', { method: 'OPTIONS' }),
    )!;
    expect(preflight.status).toBe(204);
    const post = server.handleMetadataRequest(
      new Request('http://h/.well-known/oauth-protected-resource/mcp', { method: 'POST', body: '{}' }),
    )!;
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toContain('GET');
    expect(server.handleMetadataRequest(new Request('http://h/mcp'))).toBeUndefined();
    expect(
      server.handleMetadataRequest(new Request('http://h/.well-known/oauth-protected-resource/other')),
    ).toBeUndefined();
  });

  it('derives the paths of root and nested resources', () => {
    expect(protectedResourceMetadataPaths('https://h.test')).toEqual([
      '/.well-known/oauth-protected-resource',
    ]);
    expect(protectedResourceMetadataPaths('https://h.test/')).toEqual([
      '/.well-known/oauth-protected-resource',
    ]);
    expect(protectedResourceMetadataPaths('https://h.test/a/mcp/')).toEqual([
      '/.well-known/oauth-protected-resource/a/mcp',
      '/.well-known/oauth-protected-resource',
    ]);
    expect(wellKnownMetadataUrl('https://h.test:8443/public/mcp')).toBe(
      'https://h.test:8443/.well-known/oauth-protected-resource/public/mcp',
    );
  });

  it('marks DPoP as required when it is', () => {
    const strict = oauthResourceServer({
      issuer: 'https://a.test',
      resource: 'https://m.test/',
      dpop: { required: true },
    });
    expect(strict.metadata.dpop_bound_access_tokens_required).toBe(true);
    expect(strict.metadata.scopes_supported).toBeUndefined();
  });
});

it('anywire/auth imports no Node builtin (runs in browsers and Workers)', async () => {
  const builtins: string[] = [];
  await build({
    entryPoints: [join(ROOT, 'src/auth/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'record-node-builtins',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (!isBuiltin(args.path)) return undefined;
            builtins.push(`${args.importer} -> ${args.path}`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  expect(builtins).toEqual([]);
});
