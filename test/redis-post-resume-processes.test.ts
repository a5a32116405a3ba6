/**
 * A legacy tools/call resumed on another `anywire serve --http --redis` process, with the official
 * SDK v1 client (which resumes a cut POST stream with GET and `Last-Event-ID`): two node processes
 * of the everything example on a private redis-server; the client's fetch sends its tools/call to
 * node A and everything else (its GET streams, its answers to A's sampling requests) to node B.
 * - A is SIGKILLed while the call waits for the client's sampling answer: the call fails with a
 *   clear -32603 error within the lease (default `streamOwnerLeaseMs`, 5 s) and a few seconds,
 *   far below the client's 60 s request timeout, and the session keeps working on B.
 * - The client's connection to A is cut while A lives: the call's result arrives through B.
 */
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from './fixtures/cluster.js';
import type { ClusterNode } from './fixtures/cluster.js';
import { redisMissing, startRedis } from './fixtures/redis-server.js';
import type { RedisInstance } from './fixtures/redis-server.js';
import { HTTP_DEFAULTS } from '../src/transports/streamable-http/handler-options.js';
import { waitFor } from './helpers.js';

const missing = redisMissing();
if (missing) console.warn(`skipping POST stream resumption across processes: ${missing}`);

/** A promise and its resolver. */
function later<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * An SDK v1 client whose tools/call POSTs go to `calls()` and every other request to `rest()`.
 * `cutCall()` cuts the connection of the tools/call in flight; `resumed` counts the GETs carrying
 * `Last-Event-ID` that were answered 200.
 */
function routedClient(calls: () => ClusterNode, rest: () => ClusterNode) {
  let cut: AbortController | undefined;
  const seen = { resumed: 0 };
  const fetchRouted = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const isCall = init?.method === 'POST' && body.includes('"method":"tools/call"');
    const node = isCall ? calls() : rest();
    const url = new URL(String(input instanceof Request ? input.url : input));
    const target = `${node.base}${url.pathname}`;
    let signal = init?.signal ?? undefined;
    if (isCall) {
      cut = new AbortController();
      signal = signal ? AbortSignal.any([signal, cut.signal]) : cut.signal;
    }
    const res = await fetch(target, { ...init, signal });
    const headers = new Headers(init?.headers);
    if (init?.method === 'GET' && headers.has('last-event-id') && res.status === 200) seen.resumed++;
    return res;
  };
  const client = new V1Client({ name: 'sdk-v1', version: '1.0.0' }, { capabilities: { sampling: {} } });
  const transport = new V1Http(new URL('http://placeholder/mcp'), { fetch: fetchRouted });
  return { client, transport, seen, cutCall: () => cut?.abort() };
}

const textOf = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

describe.skipIf(missing !== undefined)('a legacy tools/call resumed on another serve process', () => {
  let redis: RedisInstance;
  let a: ClusterNode;
  let b: ClusterNode;

  beforeAll(async () => {
    redis = await startRedis();
    a = await startNode({ id: 'a', redis: redis.url });
    b = await startNode({ id: 'b', redis: redis.url });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.close();
  });

  it('the connection to A is cut while A lives: the result arrives through B', async () => {
    const { client, transport, seen, cutCall } = routedClient(
      () => a,
      () => b,
    );
    const asked = later();
    const resumedThere = later();
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      asked.resolve();
      await resumedThere.promise;
      return { role: 'assistant', content: { type: 'text', text: 'relayed' }, model: 'test' };
    });
    try {
      await client.connect(transport);
      const call = client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
      await asked.promise;
      const before = seen.resumed;
      cutCall();
      // The SDK resumes the cut stream on B (after the server's retry delay) before the answer goes.
      await waitFor(
        'the resumption of the cut stream on B',
        () => seen.resumed,
        (n) => n > before,
        10_000,
      );
      const answeredAt = Date.now();
      resumedThere.resolve();
      const result = await call;
      expect(textOf(result)).toBe('LLM response: relayed');
      // Relayed as A stores it (woken by the session channel), not after a lease ran out.
      expect(Date.now() - answeredAt).toBeLessThan(HTTP_DEFAULTS.streamOwnerLeaseMs);
      console.log(
        `connection to A cut: the result came through B ${Date.now() - answeredAt} ms after the answer`,
      );
    } finally {
      await client.close().catch(() => {});
    }
  }, 60_000);

  it('A is SIGKILLed mid-call: the call fails with a clear error within the lease, and the session lives on B', async () => {
    let callsTo = a;
    const { client, transport } = routedClient(
      () => callsTo,
      () => b,
    );
    const asked = later();
    const killed = later();
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      asked.resolve();
      // Answered only after A died: nobody awaits it any more.
      await killed.promise;
      return { role: 'assistant', content: { type: 'text', text: 'too late' }, model: 'test' };
    });
    try {
      await client.connect(transport);
      const call = client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await asked.promise;
      await a.kill();
      const killedAt = Date.now();
      killed.resolve();
      callsTo = b;
      const error = await call;
      const elapsed = Date.now() - killedAt;
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).code).toBe(-32603);
      expect((error as McpError).message).toMatch(/the process running this request ended/);
      // Lease + one poll + the SDK's reconnection delay (the server's retry: 1 s) + scheduling.
      const bound = HTTP_DEFAULTS.streamOwnerLeaseMs + HTTP_DEFAULTS.resumedStreamPollMs + 1000 + 3000;
      expect(elapsed).toBeLessThan(bound);
      // The session lives on: B serves it.
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'still here' } });
      expect(textOf(echoed)).toBe('still here');
      console.log(
        `A SIGKILLed mid-call: -32603 after ${elapsed} ms (bound ${bound} ms; lease ${HTTP_DEFAULTS.streamOwnerLeaseMs} ms), ` +
          'then the session served by B',
      );
    } finally {
      await client.close().catch(() => {});
    }
  }, 60_000);
});
