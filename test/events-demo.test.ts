/**
 * The README's Events walkthrough, run as written: `anywire serve examples/everything/server.ts
 * --http`, then `anywire events list|poll|stream|subscribe|unsubscribe` and `anywire call ...
 * post_note` from the command line, in all three modes. Webhook deliveries go to a receiver on
 * 127.0.0.1 built on the `standardwebhooks` library only (not anywire's verifier); the server runs
 * with `--allow-insecure-webhooks` and `--auth-issuer` (webhooks need an authenticated principal),
 * a small jose-made issuer standing in for the authorization server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anywire, start } from './cli-run.js';
import { startJwtIssuer } from './fixtures/jwt-issuer.js';
import { startWebhookReceiver } from './fixtures/webhook-receiver.js';
import { EVERYTHING } from './helpers.js';

const TICK_MS = 200;
const RESOURCE = 'https://mcp.example.test/mcp';
const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Polls `check` until it holds; fails naming what it waited for after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `anywire serve examples/everything/server.ts --http 127.0.0.1:0 ...extra`; its endpoint URL. */
async function serveEverything(extra: string[] = []): Promise<string> {
  const served = await start(
    ['serve', EVERYTHING, '--http', '127.0.0.1:0', ...extra],
    /(http:\/\/127\.0\.0\.1:\d+\/mcp)/,
    { env: { EVERYTHING_TICK_MS: String(TICK_MS) }, timeoutMs: 60_000 },
  );
  closers.push(() => served.stop());
  return served.match[1]!;
}

async function ok(args: string[]): Promise<string> {
  const r = await anywire(args);
  expect(r.code, `anywire ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface Poll {
  events: { name: string; data: Record<string, unknown> }[];
  cursor: string;
  truncated: boolean;
}

describe('README Events walkthrough: poll and push', () => {
  let url: string;
  beforeAll(async () => {
    url = await serveEverything();
  });

  it('events list shows the timer event and the tool-emitted event, with their modes', async () => {
    const out = await ok(['events', 'list', url]);
    expect(out).toMatch(/^everything\.tick \[poll, push, webhook\]\s+A clock tick every 200 ms \(timer\)$/m);
    expect(out).toMatch(/^everything\.note \[poll, push, webhook\]\s+A note posted with the post_note tool/m);
  });

  it('poll: a first poll gives the cursor, the next one what happened since', async () => {
    const first = JSON.parse(await ok(['events', 'poll', url, 'everything.tick'])) as Poll;
    expect(first.events).toEqual([]);
    let later: Poll | undefined;
    await until('ticks after the cursor', async () => {
      later = JSON.parse(
        await ok(['events', 'poll', url, 'everything.tick', '--cursor', first.cursor]),
      ) as Poll;
      return later.events.length >= 2;
    });
    const ns = later!.events.map((e) => e.data.n as number);
    expect(later!.events.every((e) => e.name === 'everything.tick')).toBe(true);
    expect(ns).toEqual([...ns].sort((a, b) => a - b));
    expect(later!.truncated).toBe(false);

    // The tool-emitted event carries the caller's data; arguments narrow it to one topic.
    const notes = JSON.parse(await ok(['events', 'poll', url, 'everything.note', 'topic=demo'])) as Poll;
    expect(await ok(['call', url, 'post_note', 'text=elsewhere', 'topic=other'])).toMatch(/^posted evt_/);
    expect(await ok(['call', url, 'post_note', 'text=hello', 'topic=demo'])).toMatch(/^posted evt_/);
    const polled = JSON.parse(
      await ok(['events', 'poll', url, 'everything.note', 'topic=demo', '--cursor', notes.cursor]),
    ) as Poll;
    expect(polled.events).toEqual([
      expect.objectContaining({ name: 'everything.note', data: { text: 'hello', topic: 'demo' } }),
    ]);
  });

  it('stream: ticks pushed as JSON lines (every=2 keeps the even ones) until Ctrl-C', async () => {
    const stream = await start(
      ['events', 'stream', url, 'everything.tick', 'every=2'],
      /streaming everything\.tick/,
      {
        timeoutMs: 60_000,
      },
    );
    closers.push(() => stream.stop());
    let out = '';
    stream.child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await until('three pushed ticks', () => out.split('\n').filter(Boolean).length >= 3);
    const events = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; cursor: string; data: { n: number } });
    expect(events.every((e) => e.name === 'everything.tick' && e.data.n % 2 === 0)).toBe(true);
    expect(events.every((e) => typeof e.cursor === 'string')).toBe(true);
    const exited = new Promise<number | null>((r) => stream.child.once('exit', (code) => r(code)));
    stream.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stream.stderr()).toMatch(/resume with --cursor \S+/);
  });
});

/** A webhook endpoint on standardwebhooks only: verifies every request, echoes verification challenges. */
async function receiver(secret: string) {
  const hook = await startWebhookReceiver([secret]);
  closers.push(hook.close);
  return hook;
}

describe('README Events walkthrough: webhooks', () => {
  let url: string;
  let auth: string;

  beforeAll(async () => {
    const as = await startJwtIssuer();
    closers.push(as.close);
    const issuer = as.issuer;
    auth = `authorization: Bearer ${await as.token(RESOURCE, { client_id: 'events-demo' }, '10m')}`;
    url = await serveEverything([
      '--allow-insecure-webhooks',
      '--auth-issuer',
      issuer,
      '--auth-resource',
      RESOURCE,
    ]);
  });

  it('subscribe, receive signed deliveries of notes, unsubscribe', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const hooks = await receiver(secret);
    const subscribe = (path: string) =>
      ok([
        'events',
        'subscribe',
        url,
        'everything.note',
        'topic=demo',
        '--webhook',
        `${hooks.base}${path}`,
        '--secret',
        secret,
        '-H',
        auth,
      ]);
    const sub = JSON.parse(await subscribe('/hooks')) as { id: string; refreshBefore: string };
    expect(sub.id).toMatch(/^sub_/);
    expect(Date.parse(sub.refreshBefore)).toBeGreaterThan(Date.now());
    await subscribe('/other-hooks');

    await ok(['call', url, 'post_note', 'text=elsewhere', 'topic=other', '-H', auth]);
    await ok(['call', url, 'post_note', 'text=hello', 'topic=demo', '-H', auth]);
    await until('the note at both endpoints', () => hooks.got.length === 2);
    for (const d of hooks.got) {
      expect(d.body).toMatchObject({
        name: 'everything.note',
        data: { text: 'hello', topic: 'demo', from: 'ada' },
      });
      expect(d.headers['webhook-id']).toBeTruthy();
      expect(d.headers['x-mcp-subscription-id']).toMatch(/^sub_/);
    }
    expect(hooks.got.map((d) => d.headers['x-mcp-subscription-id'])).toContain(sub.id);

    const r = await anywire([
      'events',
      'unsubscribe',
      url,
      'everything.note',
      'topic=demo',
      '--webhook',
      `${hooks.base}/hooks`,
      '-H',
      auth,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`unsubscribed everything.note from ${hooks.base}/hooks`);
    await ok(['call', url, 'post_note', 'text=after', 'topic=demo', '-H', auth]);
    await until('the later note at the endpoint still subscribed', () => hooks.got.length === 3);
    await new Promise((r) => setTimeout(r, 300)); // a delivery to /hooks would have been sent with it
    expect(hooks.got).toHaveLength(3);
    expect(hooks.got[2]!.body.data).toMatchObject({ text: 'after' });
    expect(hooks.refused()).toBe(0);
  });

  it('refuses a webhook subscription without a token', async () => {
    const r = await anywire([
      'events',
      'subscribe',
      url,
      'everything.note',
      '--webhook',
      'http://127.0.0.1:9/hooks',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unauthorized|401/);
  });
});
