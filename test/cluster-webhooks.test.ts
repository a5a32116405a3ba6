/**
 * Issue 11 item 3, events by webhook: three `anywire serve --redis --auth-issuer ...
 * --allow-insecure-webhooks` nodes behind HAProxy; one webhook subscription made through HAProxy;
 * notes posted through HAProxy (so emitted on every node) while one node is SIGKILLed and started
 * again. The receiver is test/fixtures/webhook-receiver.ts (the standardwebhooks library only).
 *
 * What a user checks: every note whose `post_note` call succeeded is delivered exactly once (its
 * `webhook-id` answered 2xx once: none missing, none twice). To make the node's death hit
 * deliveries in flight, the receiver holds every delivery that arrives in the moments before the
 * kill (answered once HAProxy saw the node down): the jobs the killed node held are left pending in
 * the consumer group and must be re-claimed by another node (`XAUTOCLAIM` after `deliveryLeaseMs`,
 * 6 s here through `--delivery-lease-ms`) and delivered once.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import type { CallToolResult } from '../src/protocol/types.js';
import { StreamableHttpClientTransport } from '../src/transports/streamable-http/client.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { startCluster } from './fixtures/cluster.js';
import type { Cluster } from './fixtures/cluster.js';
import { haproxyMissing } from './fixtures/haproxy.js';
import { startJwtIssuer } from './fixtures/jwt-issuer.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { startWebhookReceiver } from './fixtures/webhook-receiver.js';
import type { WebhookDelivery } from './fixtures/webhook-receiver.js';
import { waitFor } from './helpers.js';

const missing = redisMissing() ?? haproxyMissing();
if (missing) console.warn(`cluster webhook test skipped: ${missing}`);

const RESOURCE = 'https://mcp.cluster.test/mcp';
/** `deliveryLeaseMs` of the nodes (`anywire serve --delivery-lease-ms`; the default is 30 000). */
const DELIVERY_LEASE_MS = 6000;
/** The delivery stream of the nodes (default key prefix) and its consumer group. */
const DELIVERIES = 'anywire:events:deliveries';
const GROUP = 'deliveries';

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
      args: [
        '--auth-issuer',
        issuer,
        '--auth-resource',
        RESOURCE,
        '--allow-insecure-webhooks',
        '--delivery-lease-ms',
        String(DELIVERY_LEASE_MS),
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.close();
    await redis?.close();
    for (const close of closers.reverse()) await close();
  }, 60_000);

  it('delivers every note whose post_note succeeded exactly once, through a SIGKILL (jobs of the dead node re-claimed) and a restart', async () => {
    const secret = generateWebhookSecret();
    let holding = false;
    const hook = await startWebhookReceiver([secret], { hold: () => holding });
    closers.push(() => hook.close());
    const db = createClient({ url: redis.url });
    db.on('error', () => {});
    await db.connect();
    closers.push(() => db.close());

    const client = new Client({ name: 'webhooks', version: '1.0.0' }, { era: 'modern' });
    await client.connect(
      new StreamableHttpClientTransport({ url: cluster.url, headers: { authorization: `Bearer ${token}` } }),
    );
    try {
      const sub = await client.request('events/subscribe', {
        name: 'everything.note',
        arguments: { topic: 'cluster' },
        delivery: { mode: 'webhook', url: hook.url, secret },
        ttlMs: 600_000,
      });
      expect(sub.id).toMatch(/^sub_/);

      // Notes are posted one after the other; a failed call (connection cut by the kill, a 502, a
      // note not recorded) is retried with the same text, up to 6 times.
      const succeeded = new Map<string, string>(); // eventId -> text
      const failures: string[] = [];
      let calls = 0;
      let notes = 0;
      const post = async (text: string) => {
        for (let i = 1; i <= 6; i++) {
          calls++;
          try {
            const r = (await client.callTool(
              'post_note',
              { text, topic: 'cluster' },
              { timeoutMs: 15_000 },
            )) as CallToolResult;
            const said = r.content[0]?.type === 'text' ? r.content[0].text : '';
            const m = /^posted (evt_\S+)$/.exec(said);
            if (!r.isError && m) {
              succeeded.set(m[1]!, text);
              return;
            }
            failures.push(said || JSON.stringify(r));
          } catch (error) {
            failures.push((error as Error).message);
          }
          await new Promise((r) => setTimeout(r, 50 * i)); // backoff between retries
        }
      };
      let running = true;
      const loop = (async () => {
        while (running) await post(`note-${notes++}`);
      })();

      await waitFor(
        '30 notes posted before the kill',
        () => succeeded.size,
        (n) => n >= 30,
        60_000,
      );
      // Hold what arrives now, so that the victim dies with deliveries in flight.
      holding = true;
      await waitFor(
        '6 deliveries held before the kill',
        () => hook.got.filter((d) => d.held).length,
        (n) => n >= 6,
        30_000,
      );
      const victim = cluster.node('n2');
      await victim.kill();
      const killedAt = Date.now();
      holding = false;
      // The jobs n2 had taken and not finished: pending under consumer n2 in the group.
      const pendingIds = (
        (await db.sendCommand(['XPENDING', DELIVERIES, GROUP, '-', '+', '1000', 'n2'])) as string[][]
      ).map((p) => p[0]!);
      const orphaned = new Set<string>();
      for (const id of pendingIds) {
        const entries = (await db.sendCommand(['XRANGE', DELIVERIES, id, id])) as [string, string[]][];
        const fields = entries[0]?.[1] ?? [];
        const job = JSON.parse(fields[fields.indexOf('j') + 1] ?? '{}') as { webhookId?: string };
        if (job.webhookId) orphaned.add(job.webhookId);
      }
      await cluster.lb.waitState('n2', 'DOWN');
      const released = hook.release(); // the other nodes' held deliveries (their senders are alive)
      await victim.restart();
      await cluster.lb.waitState('n2', 'UP');
      const before = succeeded.size;
      await waitFor(
        '20 more notes posted after the restart',
        () => succeeded.size - before,
        (n) => n >= 20,
        60_000,
      );
      running = false;
      await loop;

      // Done when every job is finished (acknowledged and deleted from the stream): the jobs of n2
      // are re-claimed once idle for deliveryLeaseMs, so nothing can be delivered after that.
      await waitFor(
        `every delivery job finished (XLEN ${DELIVERIES} 0; n2's jobs re-claimed after ${DELIVERY_LEASE_MS} ms)`,
        () => db.sendCommand(['XLEN', DELIVERIES]) as Promise<number>,
        (n) => n === 0,
        DELIVERY_LEASE_MS + 60_000,
      );

      const byId = new Map<string, WebhookDelivery[]>();
      for (const d of hook.got) {
        const id = String(d.headers['webhook-id']);
        byId.set(id, [...(byId.get(id) ?? []), d]);
        expect(d.body.eventId, 'the webhook-id is the event id').toBe(id);
      }
      const answered = (id: string) => (byId.get(id) ?? []).filter((d) => d.answeredAt !== undefined);
      const ids = [...succeeded.keys()];
      const missingIds = ids.filter((id) => answered(id).length === 0);
      const twice = [...byId.keys()].filter((id) => answered(id).length > 1);
      const once = ids.filter((id) => answered(id).length === 1).length;
      // Calls that failed after their note was recorded (n2 died before answering): delivered,
      // and the note was posted again under a new event id.
      const texts = new Set(succeeded.values());
      const recordedThoughFailed = [...byId.keys()].filter(
        (id) =>
          !succeeded.has(id) && texts.has(String((byId.get(id)![0]!.body.data as { text?: string })?.text)),
      ).length;
      const abandoned = hook.got.filter((d) => d.abandonedAt !== undefined);
      const reclaimed = [...orphaned].map((id) => answered(id)[0]?.answeredAt);
      const reclaimSeconds = reclaimed
        .filter((t): t is number => t !== undefined)
        .map((t) => ((t - killedAt) / 1000).toFixed(1));
      console.log(
        [
          `webhooks through HAProxy, n2 SIGKILLed and restarted:`,
          `post_note calls ${calls} for ${notes} notes: succeeded ${succeeded.size}, retried ${calls - succeeded.size} (${failures.length} failed calls)`,
          `delivered once ${once}, duplicates ${twice.length}, missing ${missingIds.length}`,
          `recorded though the call failed (delivered, note posted again) ${recordedThoughFailed}`,
          `held at the kill ${hook.got.filter((d) => d.held).length} (released ${released}, abandoned by their sender ${abandoned.length});`,
          `jobs pending on n2 at its death ${orphaned.size}, re-claimed and delivered ${reclaimSeconds.length} after ${reclaimSeconds.join(', ')} s (deliveryLeaseMs ${DELIVERY_LEASE_MS})`,
        ].join('\n  '),
      );
      if (failures.length) console.log(`failed calls (retried): ${[...new Set(failures)].join(' | ')}`);

      expect(succeeded.size).toBeGreaterThanOrEqual(50);
      expect(missingIds, 'notes whose post_note succeeded but were never delivered').toEqual([]);
      expect(twice, 'webhook-ids answered more than once').toEqual([]);
      expect(once).toBe(succeeded.size);
      // The node's death hit deliveries in flight, and another node finished them after the lease.
      expect(orphaned.size, 'jobs n2 held when it died').toBeGreaterThan(0);
      for (const id of orphaned) {
        expect(answered(id), `job ${id} of the dead n2, delivered once`).toHaveLength(1);
        // Idle since n2's last heartbeat (every third of the lease) before it died, then the lease.
        expect(answered(id)[0]!.answeredAt! - killedAt).toBeGreaterThanOrEqual(
          (DELIVERY_LEASE_MS * 2) / 3 - 1000,
        );
      }
    } finally {
      await client.close();
    }
  }, 300_000);
});
