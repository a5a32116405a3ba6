/**
 * Pure parts of the OAuth client: scope selection (2025-11-25 "Scope Selection Strategy", SEP-2350
 * union on step-up, SEP-2207 offline_access), which `resource` may stand for a server URL, the
 * in-memory store, and that the module stays runtime-neutral (no `node:` import).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemoryTokenStore, resourceCovers, selectScope } from '../src/client/auth/index.js';
import { ROOT } from './helpers.js';

describe('selectScope', () => {
  const base = { offlineAccess: true };
  it('takes the challenge first, then the resource scopes, else omits the parameter', () => {
    expect(selectScope({ ...base, challenged: 'a b', resourceScopes: ['c'] })).toBe('a b');
    expect(selectScope({ ...base, resourceScopes: ['c', 'd'] })).toBe('c d');
    expect(selectScope({ ...base })).toBeUndefined();
  });
  it('adds offline_access only where the authorization server lists it, and never asks for it otherwise', () => {
    expect(selectScope({ ...base, challenged: 'a', serverScopes: ['a', 'offline_access'] })).toBe(
      'a offline_access',
    );
    expect(selectScope({ ...base, challenged: 'a offline_access', serverScopes: ['a'] })).toBe('a');
    expect(selectScope({ offlineAccess: false, challenged: 'a', serverScopes: ['offline_access'] })).toBe(
      'a',
    );
  });
  it('keeps what was asked before on step-up, and a caller override wins', () => {
    expect(selectScope({ ...base, previous: 'read', challenged: 'write' })).toBe('read write');
    expect(
      selectScope({ ...base, override: 'x', challenged: 'write', serverScopes: ['offline_access'] }),
    ).toBe('x');
  });
});

describe('resourceCovers', () => {
  const server = new URL('https://mcp.example.com/tenant/mcp');
  it('accepts the server URL itself and its parents on the same origin', () => {
    expect(resourceCovers('https://mcp.example.com/tenant/mcp', server)).toBe(true);
    expect(resourceCovers('https://mcp.example.com/tenant', server)).toBe(true);
    expect(resourceCovers('https://mcp.example.com', server)).toBe(true);
  });
  it('refuses another origin, a sibling path, a longer path and garbage', () => {
    expect(resourceCovers('https://evil.example.com/tenant/mcp', server)).toBe(false);
    expect(resourceCovers('https://mcp.example.com/other', server)).toBe(false);
    expect(resourceCovers('https://mcp.example.com/ten', server)).toBe(false);
    expect(resourceCovers('https://mcp.example.com/tenant/mcp/x', server)).toBe(false);
    expect(resourceCovers('not a url', server)).toBe(false);
  });
});

describe('InMemoryTokenStore', () => {
  it('hands out copies, so a caller cannot change what is stored', () => {
    const store = new InMemoryTokenStore();
    const value = { access_token: 'a' };
    store.set('k', value);
    value.access_token = 'changed';
    const got = store.get('k')!;
    got.access_token = 'changed again';
    expect(store.get('k')).toEqual({ access_token: 'a' });
    store.delete('k');
    expect(store.get('k')).toBeUndefined();
  });
});

it('src/client/auth imports no node: module (it runs in browsers)', () => {
  const dir = join(ROOT, 'src/client/auth');
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text, file).not.toMatch(/from 'node:/);
  }
});
