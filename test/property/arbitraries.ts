/**
 * Generators shared by the property suites and `npm run fuzz`: JSON-RPC messages, arbitrary
 * chunkings of a byte string, and strings over alphabets that stress each parser.
 */
import fc from 'fast-check';
import type { JsonRpcMessage } from '../../src/jsonrpc/types.js';

/** A JSON-RPC id as MCP allows it. */
export const jsonRpcId = fc.oneof(fc.string({ maxLength: 8 }), fc.integer());

const params = fc.option(
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  {
    nil: undefined,
  },
);

/** A valid JSON-RPC message of every kind (request, notification, result, error). */
export const jsonRpcMessage: fc.Arbitrary<JsonRpcMessage> = fc.oneof(
  fc
    .record({ id: jsonRpcId, method: fc.string({ maxLength: 12 }), params })
    .map(({ id, method, params: p }) =>
      p === undefined
        ? { jsonrpc: '2.0' as const, id, method }
        : { jsonrpc: '2.0' as const, id, method, params: p },
    ),
  fc
    .record({ method: fc.string({ maxLength: 12 }), params })
    .map(({ method, params: p }) =>
      p === undefined ? { jsonrpc: '2.0' as const, method } : { jsonrpc: '2.0' as const, method, params: p },
    ),
  fc
    .record({
      id: jsonRpcId,
      result: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    })
    .map(({ id, result }) => ({ jsonrpc: '2.0' as const, id, result })),
  fc
    .record({
      id: fc.oneof(jsonRpcId, fc.constant(null)),
      code: fc.integer(),
      message: fc.string({ maxLength: 12 }),
    })
    .map(
      ({ id, code, message }) =>
        ({ jsonrpc: '2.0' as const, id, error: { code, message } }) as JsonRpcMessage,
    ),
);

/** Cut points: the sizes of successive reads (cycled), from one byte to a few hundred. */
export const readSizes = fc.array(
  fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 300 })),
  {
    minLength: 1,
    maxLength: 16,
  },
);

/** Splits `bytes` into reads of the given sizes, cycling through them. */
export function chunk(bytes: Uint8Array, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

/** Strings over a small alphabet rich in the characters a parser cares about. */
export function stringOver(chars: string, maxLength = 40): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...[...chars]), { maxLength }).map((a) => a.join(''));
}

/** Well-formed text of any code point (no lone surrogates), as JSON text and UTF-8 carry it. */
export const wellFormedString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', maxLength });
