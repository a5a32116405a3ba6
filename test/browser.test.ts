/**
 * anywire's client in a real browser: Debian's Chromium, driven by playwright-core, loads a page
 * from one origin (`http://localhost:<A>`) whose script (test/fixtures/browser-app.js) uses the root
 * entry, bundled here by esbuild for `platform: 'browser'`, to call tools on `serveHttp` at another
 * origin (`http://127.0.0.1:<B>/mcp`) in both eras. This proves the root entry bundles for browsers
 * (no `node:` import reaches it: esbuild refuses them for that platform) and that the CORS answer
 * (preflight allowing the MCP headers, `Mcp-Session-Id` exposed) is enough for a browser. A page on
 * an origin not in `corsOrigins` must be refused.
 *
 * Chromium is not skipped when missing: the test fails and says how to get it (`.ci/run` installs it).
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import { ROOT } from './helpers.js';

/** Debian's Chromium; `ANYWIRE_CHROMIUM` points elsewhere. */
const CHROMIUM = process.env.ANYWIRE_CHROMIUM ?? '/usr/bin/chromium';
/** The flags this machine needs (closed network: no background connections, no QUIC). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const MCP_HEADERS = ['mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-session-id', 'last-event-id'];

interface Static {
  origin: string;
  close(): Promise<void>;
}

/** Serves the page, its script and the bundle on 127.0.0.1, addressed as http://localhost:<port>. */
async function serveStatic(files: Record<string, { type: string; body: string }>): Promise<Static> {
  const server = http.createServer((req, res) => {
    const file = files[(req.url ?? '/').split('?')[0]!];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request as the MCP server saw it. */
interface Seen {
  method: string;
  origin: string | undefined;
  session: string | undefined;
  preflight: string | undefined;
}

let bundle: { code: string; metafile: Metafile } | undefined;
let bundleError: unknown;
let pages: Static;
let stranger: Static;
let mcp: HttpServerHandle;
let browser: Browser | undefined;
const seen: Seen[] = [];

/** Why there is no browser, in words that say how to get one. */
const NO_CHROMIUM =
  `Chromium is not installed (${CHROMIUM} is missing). The browser test needs Debian's chromium: ` +
  'run .ci/run, which installs it (apt-get install -y chromium), or install it by hand.';

beforeAll(async () => {
  try {
    const out = await build({
      entryPoints: [`${ROOT}src/index.ts`],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    bundle = { code: out.outputFiles[0]!.text, metafile: out.metafile };
  } catch (error) {
    bundleError = error;
  }
  const app = readFileSync(`${ROOT}test/fixtures/browser-app.js`, 'utf8');
  const page = readFileSync(`${ROOT}test/fixtures/browser-page.html`, 'utf8');
  const files = {
    '/': { type: 'text/html; charset=utf-8', body: page },
    '/browser-app.js': { type: 'text/javascript; charset=utf-8', body: app },
    '/anywire.js': { type: 'text/javascript; charset=utf-8', body: bundle?.code ?? '' },
  };
  pages = await serveStatic(files);
  stranger = await serveStatic(files);
  mcp = await serveHttp(createEverythingServer(), { port: 0, corsOrigins: [pages.origin] });
  (mcp.listener as http.Server).on('request', (req: IncomingMessage) => {
    const h = (n: string) => req.headers[n] as string | undefined;
    seen.push({
      method: req.method ?? '',
      origin: h('origin'),
      session: h('mcp-session-id'),
      preflight: h('access-control-request-headers'),
    });
  });
  if (existsSync(CHROMIUM))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await mcp?.close();
  await pages?.close();
  await stranger?.close();
});

/** Opens the page at `origin` and returns what it reported (window.result, checked against the DOM). */
async function runPage(origin: string, eras: string): Promise<Record<string, any>> {
  if (!browser) throw new Error(NO_CHROMIUM);
  if (!bundle) throw new Error(`the browser bundle failed to build: ${String(bundleError)}`);
  const context = await browser!.newContext();
  const page = await context.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  try {
    await page.goto(`${origin}/?mcp=${encodeURIComponent(mcp.url)}&eras=${eras}`);
    await page
      .waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, {
        timeout: 30_000,
      })
      .catch((e: Error) => {
        throw new Error(`the page reported nothing: ${e.message}\n${log.join('\n')}`);
      });
    const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as Record<
      string,
      any
    >;
    expect(JSON.parse((await page.textContent('#out')) ?? 'null')).toEqual(result);
    return result;
  } finally {
    await context.close();
  }
}

describe('the root entry in Chromium, cross-origin', () => {
  it('has Debian Chromium to drive (never skipped: .ci/run installs it)', () => {
    if (!existsSync(CHROMIUM)) throw new Error(NO_CHROMIUM);
    expect(browser?.isConnected()).toBe(true);
  });

  it('bundles for the browser (esbuild platform browser refuses node: builtins)', () => {
    expect(bundleError).toBeUndefined();
    expect(bundle!.code.length).toBeGreaterThan(10_000);
    const imports = Object.values(bundle!.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(imports.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(Object.keys(bundle!.metafile.inputs)).toContain('src/transports/streamable-http/client.ts');
  });

  it('calls tools from another origin in both eras (auto → modern, legacy with a session)', async () => {
    expect(new URL(pages.origin).origin).not.toBe(new URL(mcp.url).origin);
    seen.length = 0;
    const result = await runPage(pages.origin, 'auto,legacy');
    expect(result.error).toBeUndefined();
    expect(result.auto).toEqual({
      era: 'modern',
      protocolVersion: '2026-07-28',
      sessionId: null,
      echo: [{ type: 'text', text: 'hello from the browser (auto)' }],
      progress: [0, 50, 100],
      progressResult: 1,
    });
    expect(result.legacy).toEqual({
      era: 'legacy',
      protocolVersion: '2025-11-25',
      sessionId: expect.stringMatching(/^[\x21-\x7e]+$/),
      echo: [{ type: 'text', text: 'hello from the browser (legacy)' }],
      progress: [0, 50, 100],
      progressResult: 1,
    });
    // Every request came from the page's origin; the browser preflighted the MCP headers; the
    // session id the page read (exposed by CORS) came back on its requests and on the DELETE.
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.origin).toBe(pages.origin);
    // Chromium preflights once and caches the answer (max-age), whose allow-list already names every
    // MCP header: the later Mcp-Name and Mcp-Session-Id requests needed no second preflight.
    const preflights = seen.filter((s) => s.method === 'OPTIONS').map((s) => s.preflight ?? '');
    expect(preflights.length).toBeGreaterThanOrEqual(1);
    expect(preflights[0]).toMatch(/mcp-protocol-version/);
    expect(preflights[0]).toMatch(/mcp-method/);
    expect(seen.filter((s) => s.method !== 'OPTIONS').length).toBeGreaterThanOrEqual(8);
    const sid = result.legacy.sessionId as string;
    expect(seen.filter((s) => s.session === sid && s.method === 'POST').length).toBeGreaterThan(1);
    expect(seen.some((s) => s.session === sid && s.method === 'DELETE')).toBe(true);
  });

  it('answers the preflight with every MCP header and exposes Mcp-Session-Id', async () => {
    const preflight = await fetch(mcp.url, {
      method: 'OPTIONS',
      headers: {
        origin: pages.origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': `content-type, ${MCP_HEADERS.join(', ')}`,
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(pages.origin);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    for (const h of [...MCP_HEADERS, 'content-type']) expect(allowed).toContain(h);
    const post = await fetch(mcp.url, {
      method: 'POST',
      headers: {
        origin: pages.origin,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    await post.text();
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe(pages.origin);
    expect((post.headers.get('access-control-expose-headers') ?? '').toLowerCase()).toContain(
      'mcp-session-id',
    );
  });

  it('is refused from an origin not in corsOrigins', async () => {
    expect(stranger.origin).not.toBe(pages.origin);
    const result = await runPage(stranger.origin, 'auto');
    expect(result.auto).toBeUndefined();
    expect(result.error).toMatch(/Failed to fetch/);
  });
});
