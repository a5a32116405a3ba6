/**
 * Issue 11 item 3, events by webhook: three `anywire serve --redis --auth-issuer ...
 * --allow-insecure-webhooks` nodes behind HAProxy; one webhook subscription made through HAProxy;
 * notes posted through HAProxy (so emitted on every node) while one node is SIGKILLed and started
 * again. Each occurrence is delivered once across the cluster (by webhook-id, verified with the
 * standardwebhooks library); posted notes that never arrived are counted.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { startCluster } from './fixtures/cluster.js';
import type { Cluster } from './fixtures/cluster.js';
import { haproxyMissing } from './fixtures/haproxy.js';
import { startJwtIssuer } from './fixtures/jwt-issuer.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';

const missing = redisMissing() ?? haproxyMissing();
if (missing) console.warn(`cluster webhook test skipped: ${missing}`);

const RESOURCE = 'https://mcp.cluster.test/mcp';

describe.skipIf(missing)('webhook deliveries across three nodes, one SIGKILLed', () => {
  let redis: RedisInstance;
  let cluster: Cluster;
  let token: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    const as = await startJwtIssuer();
    closers.push(() => as.close());
    const issuer = as.issuer;
    token = await as.token(RESOURCE, { scope: 'mcp:tools', client_id: 'cluster-test' }, '10m');
    redis = await startRedis();
    cluster = await startCluster({
      redis: redis.url,
      args: ['--auth-issuer', issuer, '--auth-resource', RESOURCE, '--allow-insecure-webhooks'],
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.close();
    await redis?.close();
    for (const close of closers.reverse()) await close();
  }, 60_000);

  it('delivers each occurrence at most once across the cluster through a SIGKILL and restart, and counts what was lost', async () => {
    const secret = generateWebhookSecret();
    const byId = new Map<string, number>();
    const byText = new Map<string, number>();
    const hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        try {
          new Webhook(secret).verify(body, req.headers as Record<string, string>);
        } catch {
          res.writeHead(401).end();
          return;
        }
        const parsed = JSON.parse(body) as { type?: string; challenge?: string; data?: { text?: string } };
        if (parsed.type === 'verification') {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ challenge: parsed.challenge }));
          return;
        }
        const id = String(req.headers['webhook-id']);
        res.writeHead(204).end(() => {
          byId.set(id, (byId.get(id) ?? 0) + 1);
          const text = parsed.data?.text ?? '';
          byText.set(text, (byText.get(text) ?? 0) + 1);
        });
      });
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    closers.push(
      () =>
        new Promise((r) => {
          hooks.closeAllConnections();
          hooks.close(r);
        }),
    );
    const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`;
    const client = new Client({ name: 'webhooks', version: '1.0.0' }, { era: 'modern' });
    await client.connect(
      new StreamableHttpClientTransport({ url: cluster.url, headers: { authorization: `Bearer ${token}` } }),
    );
    try {
      const sub = await client.request('events/subscribe', {
        name: 'everything.note',
        arguments: { topic: 'cluster' },
        delivery: { mode: 'webhook', url: hookUrl, secret },
        ttlMs: 600_000,
      });
      expect(sub.id).toMatch(/^sub_/);

      const posted = new Set<string>();
      let retried = 0;
      const post = async (text: string) => {
        for (let i = 1; i <= 6; i++) {
          try {
            await client.callTool('post_note', { text, topic: 'cluster' }, { timeoutMs: 15_000 });
            posted.add(text);
            return;
          } catch {
            retried++;
            await new Promise((r) => setTimeout(r, 50 * i));
          }
        }
      };
      let n = 0;
      let running = true;
      const loop = (async () => {
        while (running) await post(`note-${n++}`);
      })();
      await new Promise((r) => setTimeout(r, 1500));
      const victim = cluster.node('n2');
      await victim.kill();
      await cluster.lb.waitState('n2', 'DOWN');
      await victim.restart();
      await cluster.lb.waitState('n2', 'UP');
      await new Promise((r) => setTimeout(r, 1500));
      running = false;
      await loop;

      // A job taken by n2 before it died is taken over after the delivery lease (30 s by default).
      const deadline = Date.now() + 90_000;
      while ([...posted].some((t) => !byText.has(t)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500)); // a duplicate would show up now
      const missingNotes = [...posted].filter((t) => !byText.has(t));
      const duplicateDeliveries = [...byId.values()].filter((c) => c > 1).length;
      console.log(
        `webhooks through HAProxy, n2 SIGKILLed and restarted: notes posted ${posted.size} (${retried} posts retried), occurrences delivered ${byId.size}, delivered more than once ${duplicateDeliveries}, posted notes never delivered ${missingNotes.length}`,
      );
      expect(posted.size).toBeGreaterThan(10);
      // Never twice. A note whose post_note answered on n2 just before the kill may be missing:
      // emitEvent returns before the occurrence is appended to the shared log (the append runs in
      // the background), so a node that dies in between loses it. Counted and printed, not required.
      expect(duplicateDeliveries, 'an occurrence delivered twice').toBe(0);
      expect(byId.size).toBeGreaterThanOrEqual(posted.size - missingNotes.length);
    } finally {
      await client.close();
    }
  }, 240_000);
});
