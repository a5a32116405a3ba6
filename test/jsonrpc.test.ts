import { describe, expect, it } from 'vitest';
import { ErrorCode, LineDecoder, parseMessage } from '../src/jsonrpc/index.js';

describe('parseMessage', () => {
  it('accepts requests, notifications and responses', () => {
    expect(parseMessage('{"jsonrpc":"2.0","id":1,"method":"ping"}')).toEqual({
      ok: true,
      message: { jsonrpc: '2.0', id: 1, method: 'ping' },
    });
    expect(parseMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}').ok).toBe(true);
    expect(parseMessage('{"jsonrpc":"2.0","id":"a","result":{}}').ok).toBe(true);
    expect(parseMessage('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}').ok).toBe(true);
  });

  it.each([
    ['not json', ErrorCode.ParseError, null],
    ['{"jsonrpc":"2.0","id":null,"method":"ping"}', ErrorCode.InvalidRequest, null],
    ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', ErrorCode.InvalidRequest, null],
    ['{"jsonrpc":"2.0","id":{},"method":"ping"}', ErrorCode.InvalidRequest, null],
    ['{"jsonrpc":"1.0","id":3,"method":"ping"}', ErrorCode.InvalidRequest, 3],
    ['{"jsonrpc":"2.0","id":4,"method":7}', ErrorCode.InvalidRequest, 4],
    ['{"jsonrpc":"2.0","id":5,"method":"x","params":"str"}', ErrorCode.InvalidRequest, 5],
    ['42', ErrorCode.InvalidRequest, null],
    ['[]', ErrorCode.InvalidRequest, null],
    ['{"jsonrpc":"2.0","id":6,"error":{"code":"x","message":"m"}}', ErrorCode.InvalidRequest, 6],
    ['{"jsonrpc":"2.0","id":7,"result":{},"error":{"code":1,"message":"m"}}', ErrorCode.InvalidRequest, 7],
  ])('rejects %s', (text, code, id) => {
    const r = parseMessage(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.error.code).toBe(code);
      expect(r.error.id).toBe(id);
    }
  });

  it('returns batches with per-item errors', () => {
    const r = parseMessage(
      '[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":null,"method":"b"}]',
    );
    expect(r.ok && 'batch' in r && r.batch.length === 1 && r.errors.length === 1).toBe(true);
  });
});

describe('LineDecoder', () => {
  const collect = (max?: number) => {
    const lines: string[] = [];
    const overflows: number[] = [];
    const d = new LineDecoder({
      maxMessageBytes: max,
      online: (l) => lines.push(l),
      onoverflow: (n) => overflows.push(n),
    });
    return { d, lines, overflows };
  };

  it('splits lines across chunks and strips CR', () => {
    const { d, lines } = collect();
    d.push('{"a":');
    d.push('1}\r\n{"b":2}\n\n{"c"');
    d.push(':3}\n');
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(d.bufferedBytes).toBe(0);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const { d, lines } = collect();
    const bytes = Buffer.from('"héllo ✓"\n', 'utf8');
    for (let i = 0; i < bytes.length; i++) d.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual(['"héllo ✓"']);
  });

  it('reports and skips a line over maxMessageBytes, then goes on', () => {
    const { d, lines, overflows } = collect(10);
    d.push('x'.repeat(8));
    d.push('x'.repeat(8)); // over the limit before the newline arrives: not buffered
    expect(d.bufferedBytes).toBe(0);
    d.push('xxxx\nok\n');
    d.push(`${'y'.repeat(11)}\nfine\n`);
    expect(lines).toEqual(['ok', 'fine']);
    expect(overflows).toEqual([16, 11]);
  });
});
