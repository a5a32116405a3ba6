/**
 * Webhook delivery and receipt (SEP-3415 webhook mode, Standard Webhooks). Deliveries are checked
 * by an independent receiver built on the `standardwebhooks` library; the SSRF guard is proven
 * with a stubbed resolver, so no connection attempt ever leaves for a non-loopback address.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Hono } from 'hono';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { generateWebhookSecret, isWebhookSecret, WebhookReceiver } from '../src/webhooks/index.js';
import { isPublicAddress, WebhookSender } from '../src/webhooks/sender-index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  verifiedWith: string[];
}

/** A receiver written against the standardwebhooks library only (not ours). */
async function independentReceiver(
  secrets: string[],
  answer: (n: number, r: Received) => { status: number; body?: string } | 'hang' = () => ({ status: 200 }),
): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verifiedWith: string[] = [];
      for (const s of secrets) {
        try {
          new Webhook(s).verify(body, req.headers as Record<string, string>);
          verifiedWith.push(s);
        } catch {}
      }
      const r = { headers: req.headers, body, verifiedWith };
      got.push(r);
      const a = answer(got.length, r);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/one`, got };
}

const insecure = (o: ConstructorParameters<typeof WebhookSender>[0] = {}) =>
  new WebhookSender({
    allowInsecureWebhookTargets: true,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    ...o,
  });

const event = (id: string) =>
  JSON.stringify({ eventId: id, name: 'demo.tick', timestamp: new Date().toISOString(), data: { n: 1 } });

describe('secrets', () => {
  it('accepts whsec_ + base64 of 24..64 bytes and nothing else', () => {
    const good = generateWebhookSecret();
    expect(isWebhookSecret(good)).toBe(true);
    expect(isWebhookSecret(generateWebhookSecret(24))).toBe(true);
    expect(isWebhookSecret(generateWebhookSecret(64))).toBe(true);
    expect(isWebhookSecret(`whsec_${btoa('x'.repeat(23))}`)).toBe(false); // 23 bytes
    expect(isWebhookSecret(`whsec_${btoa('x'.repeat(65))}`)).toBe(false); // 65 bytes
    expect(isWebhookSecret(good.slice(6))).toBe(false); // no prefix
    expect(isWebhookSecret('whsec_not base64!!')).toBe(false);
    expect(isWebhookSecret(42)).toBe(false);
    expect(() => generateWebhookSecret(8)).toThrow(RangeError);
  });
});

describe('WebhookSender', () => {
  it('signs so that a standardwebhooks receiver verifies it, with X-MCP-Subscription-Id', async () => {
    const secret = generateWebhookSecret();
    const rx = await independentReceiver([secret]);
    const r = await insecure().deliver({
      url: rx.url,
      webhookId: 'evt_1',
      subscriptionId: 'sub_abc',
      body: event('evt_1'),
      secrets: [secret],
    });
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(rx.got).toHaveLength(1);
    expect(rx.got[0]!.verifiedWith).toEqual([secret]);
    expect(rx.got[0]!.headers['x-mcp-subscription-id']).toBe('sub_abc');
    expect(rx.got[0]!.headers['webhook-id']).toBe('evt_1');
    expect(rx.got[0]!.headers['content-type']).toBe('application/json');
  });

  it('dual-signs while a secret rotates: receivers holding either secret verify', async () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const rx = await independentReceiver([oldSecret, newSecret]);
    await insecure().deliver({
      url: rx.url,
      webhookId: 'evt_2',
      subscriptionId: 's',
      body: event('evt_2'),
      secrets: [newSecret, oldSecret],
    });
    expect(rx.got[0]!.verifiedWith.sort()).toEqual([oldSecret, newSecret].sort());
    expect(String(rx.got[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('retries after 503 with a fresh signature each time, and succeeds', async () => {
    const secret = generateWebhookSecret();
    const rx = await independentReceiver([secret], (n) => ({ status: n < 3 ? 503 : 204 }));
    const r = await insecure().deliver({
      url: rx.url,
      webhookId: 'evt_3',
      subscriptionId: 's',
      body: event('evt_3'),
      secrets: [secret],
    });
    expect(r).toMatchObject({ ok: true, status: 204, attempts: 3 });
    expect(rx.got.map((g) => g.verifiedWith.length)).toEqual([1, 1, 1]);
  });

  it('does not retry 410 or 413, and gives up after maxAttempts on 500', async () => {
    const secret = generateWebhookSecret();
    for (const status of [410, 413]) {
      const rx = await independentReceiver([secret], () => ({ status }));
      const r = await insecure().deliver({
        url: rx.url,
        webhookId: `evt_${status}`,
        subscriptionId: 's',
        body: event('x'),
        secrets: [secret],
      });
      expect(r).toMatchObject({ ok: false, retryable: false, status, reason: 'http_4xx', attempts: 1 });
      expect(rx.got).toHaveLength(1);
    }
    const rx = await independentReceiver([secret], () => ({ status: 500 }));
    const r = await insecure({ retry: { maxAttempts: 3, initialDelayMs: 1 } }).deliver({
      url: rx.url,
      webhookId: 'evt_500',
      subscriptionId: 's',
      body: event('x'),
      secrets: [secret],
    });
    expect(r).toMatchObject({ ok: false, retryable: true, reason: 'http_5xx', attempts: 3 });
    expect(rx.got).toHaveLength(3);
  });

  it('times out on a receiver that hangs, then retries', async () => {
    const secret = generateWebhookSecret();
    const rx = await independentReceiver([secret], (n) => (n === 1 ? 'hang' : { status: 200 }));
    const attempts: string[] = [];
    const r = await insecure({ timeoutMs: 300 }).deliver(
      { url: rx.url, webhookId: 'evt_h', subscriptionId: 's', body: event('x'), secrets: [secret] },
      { onAttempt: (a) => attempts.push(a.ok ? 'ok' : a.reason) },
    );
    expect(attempts).toEqual(['timeout', 'ok']);
    expect(r.ok).toBe(true);
  });

  it('refuses bodies over 256 KiB without sending them', async () => {
    const secret = generateWebhookSecret();
    const rx = await independentReceiver([secret]);
    const r = await insecure().deliver({
      url: rx.url,
      webhookId: 'big',
      subscriptionId: 's',
      body: JSON.stringify({ data: 'x'.repeat(300 * 1024) }),
      secrets: [secret],
    });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(rx.got).toHaveLength(0);
  });
});

describe('SSRF protection (stubbed resolver; nothing leaves loopback)', () => {
  it('classifies special-purpose addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '198.18.0.1',
      '::1',
      '::',
      'fc00::1',
      'fd12::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '2001:db8::1',
      '64:ff9b::a00:1',
      '2002:a00:1::1',
      'ff02::1',
    ])
      expect([a, isPublicAddress(a)]).toEqual([a, false]);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect([a, isPublicAddress(a)]).toEqual([a, true]);
  });

  it('refuses a host that resolves to a private address, before any connection', async () => {
    const asked: string[] = [];
    const sender = new WebhookSender({
      resolver: async (host) => {
        asked.push(host);
        return [{ address: '10.0.0.5', family: 4 }];
      },
    });
    const r = await sender.deliver({
      url: 'https://hooks.example.test/in',
      webhookId: 'e',
      subscriptionId: 's',
      body: '{}',
      secrets: [generateWebhookSecret()],
    });
    expect(asked).toEqual(['hooks.example.test']);
    expect(r).toMatchObject({ ok: false, retryable: false, reason: 'connection_refused', attempts: 1 });
    expect(r.ok === false && r.message).toMatch(/special-purpose/);
  });

  it('refuses when any resolved address is private (mixed answers), and IP literals alike', async () => {
    const sender = new WebhookSender({
      resolver: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    const base = { webhookId: 'e', subscriptionId: 's', body: '{}', secrets: [generateWebhookSecret()] };
    expect((await sender.attempt({ ...base, url: 'https://mixed.example.test/' })).ok).toBe(false);
    expect((await sender.attempt({ ...base, url: 'https://127.0.0.1:1/' })).ok).toBe(false);
    expect((await sender.attempt({ ...base, url: 'https://[::1]:1/' })).ok).toBe(false);
    expect((await sender.attempt({ ...base, url: 'http://public.example.test/' })).ok).toBe(false); // https only
    expect(sender.checkUrl('http://x.test/')).toMatch(/https/);
    expect(sender.checkUrl('https://u:p@x.test/')).toMatch(/credentials/);
  });

  it('connects to the address that was checked, keeping the host name in Host', async () => {
    const secret = generateWebhookSecret();
    const rx = await independentReceiver([secret]);
    const port = new URL(rx.url).port;
    const sender = insecure({ resolver: async () => [{ address: '127.0.0.1', family: 4 }] });
    const r = await sender.deliver({
      url: `http://hooks.invalid:${port}/hooks/one`, // .invalid never resolves in real DNS
      webhookId: 'e',
      subscriptionId: 's',
      body: event('e'),
      secrets: [secret],
    });
    expect(r.ok).toBe(true);
    expect(rx.got[0]!.headers.host).toBe(`hooks.invalid:${port}`);
    expect(rx.got[0]!.verifiedWith).toEqual([secret]);
  });

  it('never follows a redirect', async () => {
    const secret = generateWebhookSecret();
    const target = await independentReceiver([secret]);
    const rx = await independentReceiver([secret], () => ({ status: 307 }));
    const r = await insecure().deliver({
      url: rx.url,
      webhookId: 'e',
      subscriptionId: 's',
      body: event('e'),
      secrets: [secret],
    });
    expect(r).toMatchObject({ ok: false, retryable: false, status: 307 });
    expect(target.got).toHaveLength(0);
  });
});

describe('endpoint verification handshake', () => {
  it('succeeds against our receiver, fails on a wrong echo and on a refused port', async () => {
    const secret = generateWebhookSecret();
    const receiver = new WebhookReceiver({ secrets: [secret] });
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const out = await receiver.handle(Buffer.concat(chunks), req.headers);
        res.writeHead(out.status, out.headers).end(out.body);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const sender = insecure();
    expect(await sender.verifyEndpoint({ url, subscriptionId: 'sub_1', secrets: [secret] })).toEqual({
      ok: true,
    });
    // A receiver that does not know the secret refuses (401): challenge_failed.
    expect(
      await sender.verifyEndpoint({ url, subscriptionId: 'sub_1', secrets: [generateWebhookSecret()] }),
    ).toMatchObject({ ok: false, reason: 'challenge_failed' });
    const liar = await independentReceiver([secret], () => ({ status: 200, body: '{"challenge":"nope"}' }));
    expect(
      await sender.verifyEndpoint({ url: liar.url, subscriptionId: 's', secrets: [secret] }),
    ).toMatchObject({ ok: false, reason: 'challenge_failed' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(
      await sender.verifyEndpoint({
        url: `http://127.0.0.1:${port}/`,
        subscriptionId: 's',
        secrets: [secret],
      }),
    ).toMatchObject({ ok: false, reason: 'connection_refused' });
  });
});

describe('WebhookReceiver', () => {
  /** Signs as any Standard Webhooks sender would: with the library, not with our sender. */
  function signed(secret: string, id: string, body: string, at = new Date()) {
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, body),
      'x-mcp-subscription-id': 'sub_9',
    };
  }

  it('verifies, deduplicates on webhook-id, and refuses bad signatures and stale timestamps', async () => {
    const secret = generateWebhookSecret();
    const seen: string[] = [];
    const rx = new WebhookReceiver({ secrets: [secret], onEvent: (e) => void seen.push(e.eventId) });
    const body = event('evt_7');
    expect((await rx.handle(body, signed(secret, 'evt_7', body))).status).toBe(200);
    const dup = await rx.handle(body, signed(secret, 'evt_7', body));
    expect([dup.status, JSON.parse(dup.body)]).toEqual([200, { duplicate: true }]);
    expect(seen).toEqual(['evt_7']);
    expect((await rx.handle(body, signed(generateWebhookSecret(), 'evt_8', body))).status).toBe(401);
    const stale = signed(secret, 'evt_9', body, new Date(Date.now() - 6 * 60_000));
    expect((await rx.handle(body, stale)).status).toBe(401);
    const tampered = signed(secret, 'evt_10', body);
    expect((await rx.handle(`${body} `, tampered)).status).toBe(401);
    expect((await rx.handle(body, {})).status).toBe(401);
  });

  it('answers 503 while the application cannot accept, then takes the retry', async () => {
    const secret = generateWebhookSecret();
    let ready = false;
    const seen: string[] = [];
    const rx = new WebhookReceiver({
      secrets: () => [secret],
      onEvent: (e) => {
        if (!ready) throw new Error('not yet');
        seen.push(e.eventId);
      },
    });
    const body = event('evt_r');
    expect((await rx.handle(body, signed(secret, 'evt_r', body))).status).toBe(503);
    ready = true;
    expect((await rx.handle(body, signed(secret, 'evt_r', body))).status).toBe(200);
    expect(seen).toEqual(['evt_r']);
  });

  it('passes gap and terminated envelopes on, and refuses oversized bodies', async () => {
    const secret = generateWebhookSecret();
    const control: string[] = [];
    const rx = new WebhookReceiver({ secrets: [secret], onControl: (c) => void control.push(c.type) });
    const gap = JSON.stringify({ type: 'gap', cursor: 'c2' });
    expect((await rx.handle(gap, signed(secret, 'msg_gap_1', gap))).status).toBe(200);
    const big = JSON.stringify({ x: 'y'.repeat(300 * 1024) });
    expect((await rx.handle(big, signed(secret, 'big', big))).status).toBe(413);
    expect(control).toEqual(['gap']);
    expect(() => new WebhookReceiver({ secrets: [], maxBodyBytes: 0 })).toThrow(RangeError);
  });

  it('mounts in Hono (web-standard) and Express (raw body)', async () => {
    const secret = generateWebhookSecret();
    const seen: string[] = [];
    const rx = new WebhookReceiver({ secrets: [secret], onEvent: (e) => void seen.push(e.eventId) });
    const app = new Hono();
    app.post('/hooks', (c) => rx.fetch(c.req.raw));
    const body = event('evt_hono');
    const res = await app.request('/hooks', {
      method: 'POST',
      body,
      headers: signed(secret, 'evt_hono', body),
    });
    expect(res.status).toBe(200);

    const ex = express();
    ex.post('/hooks', express.raw({ type: 'application/json' }), async (req, res) => {
      const out = await rx.handle(req.body as Buffer, req.headers);
      res.status(out.status).set(out.headers).send(out.body);
    });
    const server = ex.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const r = await insecure().deliver({
      url,
      webhookId: 'evt_express',
      subscriptionId: 'sub_9',
      body: event('evt_express'),
      secrets: [secret],
    });
    expect(r.ok).toBe(true);
    expect(seen).toEqual(['evt_hono', 'evt_express']);
  });
});
