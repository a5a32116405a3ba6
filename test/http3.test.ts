/**
 * HTTP/3 at the edge: Node has no QUIC, so Caddy (Debian's package) terminates HTTP/3 in front of
 * anywire's `serveHttp` and proxies `/mcp` to it. A headless Chromium (Debian's, driven by
 * playwright-core, QUIC forced for the test origin) loads a page from Caddy and calls tools in both
 * eras with fetch: a stateless 2026-07-28 tools/call, and a legacy session (initialize, tools/call,
 * a progress-reporting call answered as an SSE stream). The test asserts what each hop spoke:
 * browser → Caddy `h3` (`nextHopProtocol` of the navigation and of every MCP request), Caddy →
 * anywire HTTP/1.1 or h2c (the HTTP version anywire saw, with `X-Forwarded-Proto: https`).
 *
 * Skipped, with the reason printed, when caddy or chromium is missing (`.ci/run` installs both).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import type { HttpServerHandle } from '../src/transports/streamable-http/node.js';
import { serveHttp } from '../src/transports/streamable-http/node.js';
import type { CaddyInstance } from './fixtures/caddy.js';
import { caddyMissing, startCaddy } from './fixtures/caddy.js';
import { ROOT } from './helpers.js';

/** Debian's Chromium; `ANYWIRE_CHROMIUM` points elsewhere. */
const CHROMIUM = process.env.ANYWIRE_CHROMIUM ?? '/usr/bin/chromium';
const chromiumMissing = existsSync(CHROMIUM)
  ? undefined
  : `chromium is not installed (${CHROMIUM} is missing; apt-get install chromium, or set ANYWIRE_CHROMIUM)`;
const missing = caddyMissing() ?? chromiumMissing;
if (missing) console.warn(`http3.test.ts skipped: ${missing}`);

/** Chromium with QUIC forced for one origin, trusting the test certificate by its key. */
function chromiumArgs(caddy: CaddyInstance): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--enable-quic',
    // 127.0.0.1, not localhost: localhost may resolve to ::1 first, where Caddy does not listen.
    `--origin-to-force-quic-on=127.0.0.1:${caddy.port}`,
    `--ignore-certificate-errors-spki-list=${caddy.spki}`,
  ];
}

/** A request as anywire saw it, behind Caddy. */
interface Seen {
  method: string;
  httpVersion: string;
  forwardedProto: string | undefined;
}

describe.skipIf(missing !== undefined).each([
  { upstreamProtocol: 'http/1.1' as const, httpVersion: '1.1' },
  { upstreamProtocol: 'h2c' as const, httpVersion: '2.0' },
])('Chromium → h3 → Caddy → $upstreamProtocol → anywire', ({ upstreamProtocol, httpVersion }) => {
  let mcp: HttpServerHandle;
  let caddy: CaddyInstance;
  let browser: Browser;
  const seen: Seen[] = [];

  beforeAll(async () => {
    mcp = await serveHttp(createEverythingServer(), {
      port: 0,
      http2: upstreamProtocol === 'h2c',
    });
    mcp.listener.on('request', (req: IncomingMessage | Http2ServerRequest) => {
      seen.push({
        method: req.method ?? '',
        httpVersion: req.httpVersion,
        forwardedProto: req.headers['x-forwarded-proto'] as string | undefined,
      });
    });
    const upstream = new URL(mcp.url).host;
    caddy = await startCaddy({
      upstream,
      upstreamProtocol,
      files: { 'index.html': readFileSync(`${ROOT}test/fixtures/h3-page.html`, 'utf8') },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs(caddy) });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await caddy?.close();
    await mcp?.close();
  });

  it('calls tools in both eras over HTTP/3, with SSE flushed through the proxy', async () => {
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    try {
      await page.goto(`${caddy.origin}/`);
      await page
        .waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, {
          timeout: 30_000,
        })
        .catch((e: Error) => {
          throw new Error(
            `the page reported nothing within 30 s: ${e.message}\n${log.join('\n')}\ncaddy: ${caddy.log()}`,
          );
        });
      const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as {
        error?: string;
        navigation: string | null;
        protocols: Record<string, string | null>;
        modern: { status: number; text: string | null; error: unknown; calls: string[] };
        legacy: {
          session: string | null;
          initializeStatus: number;
          initializedStatus: number;
          text: string | null;
          progressType: string;
          progress: number[];
          progressResult: string | null;
          calls: string[];
        };
      };
      console.log(
        `http3 (${upstreamProtocol} upstream): navigation ${result.navigation}; ` +
          Object.entries(result.protocols)
            .map(([u, p]) => `${new URL(u).search.slice(6)} ${p}`)
            .join(', '),
      );
      expect(result.error, `${result.error}\n${log.join('\n')}`).toBeUndefined();

      // 2026-07-28: one stateless POST.
      expect(result.modern).toMatchObject({ status: 200, text: 'hello over h3 (2026-07-28)', error: null });
      // Legacy: a session opened by initialize, then tools/call with it; progress arrives on SSE.
      expect(result.legacy.initializeStatus).toBe(200);
      expect(result.legacy.session).toMatch(/\S+/);
      expect(result.legacy.initializedStatus).toBe(202);
      expect(result.legacy.text).toBe('hello over h3 (legacy)');
      expect(result.legacy.progressType).toMatch(/^text\/event-stream/);
      expect(result.legacy.progress).toEqual([0, 50, 100]);
      expect(result.legacy.progressResult).toBe('p1');

      // Browser → Caddy: HTTP/3 for the page and every MCP request.
      expect(result.navigation).toBe('h3');
      expect(Object.keys(result.protocols)).toHaveLength(5);
      for (const [url, protocol] of Object.entries(result.protocols)) expect(protocol, url).toBe('h3');

      // Caddy → anywire: the upstream wire, marked as forwarded from HTTPS.
      const posts = seen.filter((s) => s.method === 'POST');
      expect(posts).toHaveLength(5);
      for (const s of posts) expect(s).toEqual({ method: 'POST', httpVersion, forwardedProto: 'https' });
    } finally {
      await page.close();
    }
  }, 60_000);
});
