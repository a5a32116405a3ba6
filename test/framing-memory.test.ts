/**
 * Memory and work of the frame readers when the bytes arrive in the worst way: one at a time. Every
 * reader must hold at most its limit plus one 64 KiB block, and do work linear in the bytes fed
 * (counted in bytes scanned and copied, not in wall time). Also: a line of exactly the limit
 * followed by CRLF is accepted wherever the reads split it.
 */
import { describe, expect, it } from 'vitest';
import { ChunkBuffer } from '../src/jsonrpc/chunk-buffer.js';
import { LineDecoder } from '../src/jsonrpc/framing.js';
import { encodeFrame, LengthPrefixDecoder } from '../src/transports/stream/length-prefix.js';
import { readBodyText, readSseStream, SseDecoder } from '../src/transports/streamable-http/client-sse.js';

const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;

describe('ChunkBuffer', () => {
  it('holds one-byte appends in blocks: retained bytes stay within length + 64 KiB, copies within 2x', () => {
    const b = new ChunkBuffer();
    const one = Buffer.alloc(1);
    for (let i = 0; i < MiB; i++) {
      one[0] = i & 0xff;
      b.append(one);
      if ((i & 0xfff) === 0) expect(b.retainedBytes).toBeLessThanOrEqual(b.length + BLOCK);
    }
    const all = b.concat();
    expect(all.length).toBe(MiB);
    expect(all[12345]).toBe(12345 & 0xff);
    expect(b.copiedBytes).toBeLessThanOrEqual(2 * MiB);
    b.clear();
    expect(b.retainedBytes).toBe(0);
  });

  it('keeps bytes in order across mixed small and large appends', () => {
    const b = new ChunkBuffer();
    const parts = [1, 300, 70_000, 2, 65_536, 5, 200_000, 1].map((n, k) => Buffer.alloc(n, k + 1));
    for (const p of parts) b.append(p);
    expect(Buffer.from(b.concat(Buffer.from([9])))).toEqual(Buffer.concat([...parts, Buffer.from([9])]));
    expect(b.lastByte).toBe(8);
  });
});

describe('LineDecoder fed one byte at a time', () => {
  it('a 1 MiB line: memory within the limit + 64 KiB, each byte scanned once and copied at most twice', () => {
    const lines: string[] = [];
    const d = new LineDecoder({ maxMessageBytes: 4 * MiB, online: (l) => lines.push(l) });
    const line = Buffer.from(`"${'x'.repeat(MiB - 2)}"\n`);
    let maxRetained = 0;
    for (let i = 0; i < line.length; i++) {
      d.push(line.subarray(i, i + 1));
      if ((i & 0xfff) === 0) maxRetained = Math.max(maxRetained, d.retainedBytes);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBe(MiB);
    expect(maxRetained).toBeLessThanOrEqual(MiB + BLOCK);
    expect(d.retainedBytes).toBe(0);
    expect(d.work.scanned).toBe(line.length);
    expect(d.work.copied).toBeLessThanOrEqual(2 * line.length);
  });

  it('work stays linear: 4x the bytes costs 4x the work', () => {
    const cost = (n: number) => {
      const d = new LineDecoder({ online: () => {} });
      const bytes = Buffer.from(`${'y'.repeat(n)}\n`);
      for (let i = 0; i < bytes.length; i++) d.push(bytes.subarray(i, i + 1));
      return d.work.scanned + d.work.copied;
    };
    const small = cost(64 * 1024);
    expect(cost(256 * 1024)).toBeLessThanOrEqual(4 * small + 16);
  });

  it('an oversized trickled line is dropped at the limit, never held whole', () => {
    const overflows: number[] = [];
    const lines: string[] = [];
    const d = new LineDecoder({
      maxMessageBytes: 1000,
      online: (l) => lines.push(l),
      onoverflow: (n) => overflows.push(n),
    });
    const bytes = Buffer.from(`${'z'.repeat(100_000)}\nok\n`);
    for (let i = 0; i < bytes.length; i++) {
      d.push(bytes.subarray(i, i + 1));
      expect(d.bufferedBytes).toBeLessThanOrEqual(1001);
    }
    expect(overflows).toEqual([1001]);
    expect(lines).toEqual(['ok']);
  });
});

describe('a line of exactly maxMessageBytes followed by CRLF', () => {
  const max = 64;
  const body = `"${'a'.repeat(max - 2)}"`;
  const wire = Buffer.from(`${body}\r\n{"next":1}\r\n`);

  it('is accepted at every split point, in two reads and in three', () => {
    const run = (cuts: number[]) => {
      const lines: string[] = [];
      const overflows: number[] = [];
      const d = new LineDecoder({
        maxMessageBytes: max,
        online: (l) => lines.push(l),
        onoverflow: (n) => overflows.push(n),
      });
      let from = 0;
      for (const c of [...cuts, wire.length]) {
        d.push(wire.subarray(from, c));
        from = c;
      }
      expect({ cuts, lines, overflows }).toEqual({ cuts, lines: [body, '{"next":1}'], overflows: [] });
    };
    for (let a = 0; a <= wire.length; a++) {
      run([a]);
      for (let b = a; b <= wire.length; b++) run([a, b]);
    }
  });

  it('one byte longer is still refused at every split point', () => {
    const long = Buffer.from(`${body}x\r\nok\r\n`);
    for (let a = 0; a <= long.length; a++) {
      const lines: string[] = [];
      const overflows: number[] = [];
      const d = new LineDecoder({
        maxMessageBytes: max,
        online: (l) => lines.push(l),
        onoverflow: (n) => overflows.push(n),
      });
      d.push(long.subarray(0, a));
      d.push(long.subarray(a));
      expect(lines).toEqual(['ok']);
      expect(overflows).toHaveLength(1);
    }
  });
});

describe('LengthPrefixDecoder fed one byte at a time', () => {
  it('a 1 MiB frame: memory within the limit + 64 KiB, each byte copied at most twice', () => {
    const frames: number[] = [];
    const d = new LengthPrefixDecoder({ onframe: (p) => frames.push(p.length) });
    const wire = Buffer.concat([encodeFrame(Buffer.alloc(MiB, 1)), encodeFrame(Buffer.from('ok'))]);
    let maxRetained = 0;
    for (let i = 0; i < wire.length; i++) {
      d.push(wire.subarray(i, i + 1));
      if ((i & 0xfff) === 0) maxRetained = Math.max(maxRetained, d.retainedBytes);
    }
    expect(frames).toEqual([MiB, 2]);
    expect(maxRetained).toBeLessThanOrEqual(MiB + BLOCK);
    expect(d.copiedBytes).toBeLessThanOrEqual(2 * wire.length);
    expect(d.bufferedBytes).toBe(0);
  });
});

describe('SseDecoder fed one byte at a time', () => {
  it('a 1 MiB event: memory within the limit + 64 KiB, each byte scanned once', () => {
    const events: string[] = [];
    const d = new SseDecoder({ maxEventBytes: 4 * MiB, onevent: (e) => events.push(e.data) });
    const data = 'd'.repeat(MiB);
    const wire = Buffer.from(`id: 1\r\ndata: ${data}\r\ndata: second\r\n\r\n`);
    let maxRetained = 0;
    for (let i = 0; i < wire.length; i++) {
      d.push(wire.subarray(i, i + 1));
      if ((i & 0xfff) === 0) maxRetained = Math.max(maxRetained, d.retainedBytes);
    }
    expect(events).toEqual([`${data}\nsecond`]);
    expect(maxRetained).toBeLessThanOrEqual(2 * MiB + BLOCK);
    expect(d.work.scanned).toBeLessThanOrEqual(2 * wire.length);
    expect(d.work.copied).toBeLessThanOrEqual(2 * wire.length);
  });

  it('many short lines ending in mixed CR and LF cost linear work', () => {
    const cost = (n: number) => {
      const d = new SseDecoder({ maxEventBytes: 64 * MiB, onevent: () => {} });
      d.push(Buffer.from(`${'data: a\n'.repeat(n)}\r\r`));
      return d.work.scanned + d.work.copied;
    };
    expect(cost(40_000)).toBeLessThanOrEqual(4 * cost(10_000) + 16);
  });
});

/** A body that delivers `bytes` in reads of `size` bytes. */
function trickledBody(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

describe('client body readers fed small reads', () => {
  it('readSseStream: events from one-byte reads; an event over the limit rejects with MESSAGE_TOO_LARGE', async () => {
    const events: string[] = [];
    const wire = new TextEncoder().encode(`: hi\n\nid: 7\ndata: {"a":"é"}\n\ndata: ${'x'.repeat(200)}\n\n`);
    await expect(
      readSseStream(trickledBody(wire, 1), { onevent: (e) => events.push(e.data) }, 100),
    ).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    });
    expect(events).toEqual(['{"a":"é"}']);
  });

  it('readBodyText: the same text from one-byte reads; over the limit rejects with MESSAGE_TOO_LARGE', async () => {
    const text = `{"s":"${'é'.repeat(5000)}"}`;
    const bytes = new TextEncoder().encode(text);
    expect(await readBodyText(new Response(trickledBody(bytes, 1)), 1 << 20)).toBe(text);
    await expect(readBodyText(new Response(trickledBody(bytes, 7)), 1000)).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    });
  });
});
