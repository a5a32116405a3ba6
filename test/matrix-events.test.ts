/**
 * The Events extension (io.modelcontextprotocol/events, SEP-3415) on every binding of the interop
 * matrix, WebSocket and stdio among them: push (`events/stream`: active, then only the matching
 * events, stamped with the subscription id, until the client closes it), poll with cursors, and
 * subscription arguments that fail the event's inputSchema (-32602). Events are emitted by a tool,
 * so the server may live in another process (stdio).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../src/client/client.js';
import { pollEvents, streamEvents } from '../src/client/events.js';
import type { EventOccurrence } from '../src/client/events.js';
import type { RunningBinding } from './bindings/types.js';
import { matrixBindings, waitFor } from './fixtures/matrix-bindings.js';
import { createMatrixExtensionsServer, NOTE_EVENT } from './fixtures/matrix-extensions-server.js';
import { ROOT } from './helpers.js';

const MODULE = `${ROOT}test/fixtures/matrix-extensions-server.ts`;
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: { code?: unknown }) => e.code,
  );

for (const binding of matrixBindings.filter((b) => b.eras.includes('modern'))) {
  const why = await binding.unavailable?.();
  describe.skipIf(why !== undefined)(`${binding.name}${why ? ` (skipped: ${why})` : ''}`, () => {
    if (why) console.warn(`matrix-events: ${binding.name} skipped: ${why}`);
    const server = createMatrixExtensionsServer();
    const topic = `on-${binding.name}`;
    const emit = (text: string, on = topic) => client.callTool('emit_note', { topic: on, text });
    let running: RunningBinding;
    let client: Client;
    beforeAll(async () => {
      running = await binding.start(server, { module: MODULE });
      client = new Client(
        { name: 'matrix-events', version: '1.0.0' },
        { era: 'modern', requestTimeoutMs: 20_000, probeTimeoutMs: 20_000 },
      );
      await client.connect(await running.connect());
    });
    afterAll(async () => {
      await client?.close();
      await running?.stop();
      await server.close();
    });

    it('push: events/stream delivers the matching events, stamped with its subscription id, until closed', async () => {
      const got: EventOccurrence[] = [];
      const stream = await streamEvents(client, NOTE_EVENT, { topic }, (e) => got.push(e));
      expect(stream.subscriptionId).not.toBe('');
      await emit('elsewhere', 'another-topic');
      await emit('first');
      await emit('second');
      await waitFor(
        'two pushed events',
        () => got.length,
        (n) => n >= 2,
      );
      expect(got.map((e) => e.data)).toEqual([
        { topic, text: 'first' },
        { topic, text: 'second' },
      ]);
      for (const e of got) {
        expect(e.name).toBe(NOTE_EVENT);
        expect(e._meta?.[SUBSCRIPTION_ID]).toBe(stream.subscriptionId);
      }
      expect(stream.cursor).toEqual(expect.any(String));
      await stream.close();
      await emit('after close');
      // A second stream sees its marker; by then the closed one would have had 'after close'.
      const later: EventOccurrence[] = [];
      const second = await streamEvents(client, NOTE_EVENT, { topic }, (e) => later.push(e));
      expect(second.subscriptionId).not.toBe(stream.subscriptionId);
      await emit('marker');
      await waitFor(
        'the marker on the second stream',
        () => later.map((e) => e.data.text),
        (texts) => texts.includes('marker'),
      );
      await second.close();
      expect(later.map((e) => e.data.text)).toEqual(['marker']);
      expect(got).toHaveLength(2);
    });

    it('poll: a cursor from now, then the events emitted since, in order', async () => {
      const start = await pollEvents(client, NOTE_EVENT, { topic });
      expect(start).toMatchObject({ events: [], truncated: false, nextPollMs: 100 });
      await emit('one');
      await emit('other topic', 'another-topic');
      await emit('two');
      const next = await pollEvents(client, NOTE_EVENT, { topic }, { cursor: start.cursor });
      expect(next.events.map((e) => e.data.text)).toEqual(['one', 'two']);
      expect((await pollEvents(client, NOTE_EVENT, { topic }, { cursor: next.cursor })).events).toEqual([]);
    });

    it("bad input: arguments failing the event's inputSchema, an unknown event type", async () => {
      expect(await codeOf(streamEvents(client, NOTE_EVENT, { topic: 7 }, () => {}))).toBe(-32602);
      expect(await codeOf(streamEvents(client, NOTE_EVENT, {}, () => {}))).toBe(-32602);
      expect(await codeOf(pollEvents(client, NOTE_EVENT, { topic: ['x'] }))).toBe(-32602);
      expect(await codeOf(streamEvents(client, 'no.such.event', { topic }, () => {}))).toBe(-32023);
      // The refusals left the connection serving.
      expect((await pollEvents(client, NOTE_EVENT, { topic })).truncated).toBe(false);
    });
  });
}
