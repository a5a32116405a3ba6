/**
 * A legacy POST stream resumed on another node (shared sessions on a real Redis): the node where
 * the client resumes relays what the node running the request stores later, and answers the
 * request with a JSON-RPC error once that node is dead (its lease lapsed) instead of leaving the
 * client waiting; the session lives on.
 */
import { describe, expect, it } from 'vitest';
import type { McpServer } from '../src/server/mcp-server.js';
import { RedisEventStore } from '../src/redis/event-store.js';
import { OWNER_ENDED_MESSAGE } from '../src/transports/streamable-http/resumed-post-stream.js';
import { redisMissing } from './fixtures/redis-server.js';
import { RawClient, readSse, sessionCluster, until } from './fixtures/session-nodes.js';
import type { Node, SseEvent } from './fixtures/session-nodes.js';
import { z } from 'zod';

const missing = redisMissing();
if (missing) console.warn(`skipping POST stream resumption tests: ${missing}`);

const LEASE_MS = 1000;
const POLL_MS = 200;
const RETENTION_MS = 300;

function define(server: McpServer, name: string): void {
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => `${name}:${text}`);
  server.registerTool('sample', {}, async (_args, ctx) => {
    const r = await ctx.sample({
      messages: [{ role: 'user', content: { type: 'text', text: 'hello?' } }],
      maxTokens: 5,
    });
    return `${name}:${(r.content as { text: string }).text}`;
  });
}

/** The JSON-RPC messages of some SSE events. */
const messages = (events: SseEvent[]) => events.filter((e) => e.data).map((e) => JSON.parse(e.data));

describe.skipIf(missing !== undefined)('a legacy POST stream resumed on another node', () => {
  const c = sessionCluster(define, 'pr');
  const nodes = c.nodes;
  let keyPrefix = '';
  async function twoNodes(leaseMs = LEASE_MS): Promise<[Node, Node]> {
    ({ keyPrefix } = await c.start(['A', 'B'], {
      http: {
        streamOwnerLeaseMs: leaseMs,
        resumedStreamPollMs: POLL_MS,
        shutdownGraceMs: 100,
        eventRetentionMs: RETENTION_MS,
      },
    }));
    return nodes as [Node, Node];
  }

  /** Starts `sample` on `node` as request `id`; resolves once its sampling request arrived on the POST stream. */
  async function startSampling(client: RawClient, node: Node, id: number) {
    const ac = new AbortController();
    const res = await fetch(node.url, {
      method: 'POST',
      headers: client.headers(),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'sample', arguments: {} },
      }),
      signal: ac.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events: SseEvent[] = [];
    const reading = readSse(res, (e) => events.push(e)).then(
      () => 'ended',
      () => 'cut',
    );
    await until('the sampling request on the POST stream', () =>
      messages(events).some((m) => m.method === 'sampling/createMessage'),
    );
    const sampling = messages(events).find((m) => m.method === 'sampling/createMessage');
    return { events, reading, samplingId: sampling.id as string, cut: () => ac.abort() };
  }

  /** Resumes a stream on `node` after `lastEventId`, collecting its events until it ends. */
  async function resume(client: RawClient, node: Node, lastEventId: string) {
    const res = await client.get(node, lastEventId);
    expect(res.status).toBe(200);
    const events: SseEvent[] = [];
    const ended = readSse(res, (e) => events.push(e)).then(() => Date.now());
    return { events, ended };
  }

  it('the node running the request dies: the resumption elsewhere answers it with an error, within the lease', async () => {
    const [a, b] = await twoNodes();
    const alice = new RawClient('alice');
    await alice.initialize(a);
    await alice.post(b, { jsonrpc: '2.0', method: 'notifications/initialized' });

    // The tool on A waits for a sampling answer (a server-to-client request in flight on A).
    const call = await startSampling(alice, a, 50);
    const lastEventId = call.events.at(-1)!.id!;
    await a.kill();
    const killedAt = Date.now();
    expect(await call.reading).toMatch(/ended|cut/);

    // Isolation: another principal's session presenting alice's event id gets none of her stream
    // (no relay, no error for her request id); it is an unknown id there.
    const bob = new RawClient('bob');
    await bob.initialize(b);
    await bob.post(b, { jsonrpc: '2.0', method: 'notifications/initialized' });
    const foreignAbort = new AbortController();
    const foreign = await bob.get(b, lastEventId, foreignAbort.signal);
    const foreignEvents: SseEvent[] = [];
    const foreignReading = readSse(foreign, (e) => foreignEvents.push(e)).catch(() => {});

    const resumed = await resume(alice, b, lastEventId);
    const endedAt = await resumed.ended;
    expect(foreign.status).toBe(200);
    expect(messages(foreignEvents), "bob's stream after presenting alice's event id").toEqual([]);
    foreignAbort.abort();
    await foreignReading;
    const got = messages(resumed.events);
    expect(got).toEqual([{ jsonrpc: '2.0', id: 50, error: { code: -32603, message: OWNER_ENDED_MESSAGE } }]);
    expect(resumed.events[0]!.id).toBeTypeOf('string');
    const elapsed = endedAt - killedAt;
    // Bounded by the lease and one poll (plus scheduling), far below a client's request timeout.
    expect(elapsed).toBeLessThan(LEASE_MS + POLL_MS + 1500);

    // The error is on the stream: a client that lost this connection too finds it again.
    const again = await resume(alice, b, lastEventId);
    await again.ended;
    expect(messages(again.events).map((m) => m.error?.code)).toEqual([-32603]);
    // Answered and delivered: the stream's events go after the resumption grace, so a client that
    // resumes again (the SDK does after an error response) is not answered the same stream forever.
    const events = new RedisEventStore(c.redis.url, { keyPrefix });
    try {
      await until('the answered stream to be retired', async () => {
        return (await events.replayEventsAfter(alice.sessionId, lastEventId, () => {})) === undefined;
      });
    } finally {
      await events.close();
    }

    // The session lives on: the late answer to the dead node's request is accepted, B serves calls.
    const late = await alice.post(b, {
      jsonrpc: '2.0',
      id: call.samplingId,
      result: { role: 'assistant', content: { type: 'text', text: 'late' }, model: 'm' },
    });
    expect(late.status).toBe(202);
    const echoed = await alice.call(b, 51, 'tools/call', { name: 'echo', arguments: { text: 'alive' } });
    expect(echoed.body.result.content[0].text).toBe('B:alive');
    console.log(
      `POST stream resumed after its node died: error response ${elapsed} ms after the kill ` +
        `(lease ${LEASE_MS} ms, poll ${POLL_MS} ms)`,
    );
  });

  it('the connection to the running node is cut: the response arrives through the other node', async () => {
    const [a, b] = await twoNodes();
    const alice = new RawClient('alice');
    await alice.initialize(a);
    await alice.post(b, { jsonrpc: '2.0', method: 'notifications/initialized' });

    const call = await startSampling(alice, a, 60);
    const lastEventId = call.events.at(-1)!.id!;
    call.cut();
    expect(await call.reading).toBe('cut');

    // Resumed on B while the tool still waits on A; the answer goes to B, is forwarded to A, and the
    // result A stores then is relayed by B.
    const resumed = await resume(alice, b, lastEventId);
    const answeredAt = Date.now();
    const answer = await alice.post(b, {
      jsonrpc: '2.0',
      id: call.samplingId,
      result: { role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'm' },
    });
    expect(answer.status).toBe(202);
    const endedAt = await resumed.ended;
    const got = messages(resumed.events);
    expect(got).toEqual([
      { jsonrpc: '2.0', id: 60, result: { content: [{ type: 'text', text: 'A:sampled' }] } },
    ]);
    // Woken by the channel, not waiting for the lease.
    expect(endedAt - answeredAt).toBeLessThan(LEASE_MS);
    console.log(
      `POST stream resumed while its node lives: result relayed ${endedAt - answeredAt} ms after the answer`,
    );
  });

  it('the node running the request shuts down: its lease is released, and the resumption answers at once', async () => {
    const longLeaseMs = 30_000;
    const [a, b] = await twoNodes(longLeaseMs);
    const alice = new RawClient('alice');
    await alice.initialize(a);
    await alice.post(b, { jsonrpc: '2.0', method: 'notifications/initialized' });

    const call = await startSampling(alice, a, 70);
    const lastEventId = call.events.at(-1)!.id!;
    call.cut();
    await call.reading;
    const resumed = await resume(alice, b, lastEventId);
    // B waits while A lives; A closes with the tool still waiting for its sampling answer.
    await new Promise((r) => setTimeout(r, 2 * POLL_MS));
    expect(resumed.events).toEqual([]);
    const closingAt = Date.now();
    await a.close();
    const endedAt = await resumed.ended;
    expect(messages(resumed.events).map((m) => [m.id, m.error?.code])).toEqual([[70, -32603]]);
    // Far sooner than the lease would have lapsed.
    expect(endedAt - closingAt).toBeLessThan(longLeaseMs / 3);
    console.log(`A closed mid-call: the resumption on B answered -32603 ${endedAt - closingAt} ms later`);
  });
});
