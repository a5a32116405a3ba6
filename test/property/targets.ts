/**
 * Every property of the parsers and encoders, as named targets: the property suites
 * (test/property/*.test.ts) run each for `ciRuns` inputs, `npm run fuzz` (fuzz/run.ts) for
 * `fuzzRuns`. Each checks round trips, that no exception escapes but the documented ones, and that
 * the work done stays linear in the input (counted, not timed).
 */
import fc from 'fast-check';
import { LineDecoder } from '../../src/jsonrpc/framing.js';
import { parseMessage, validateValue } from '../../src/jsonrpc/parse.js';
import { serializeMessage } from '../../src/jsonrpc/serialize.js';
import { McpError } from '../../src/protocol/errors.js';
import { openState, sealState } from '../../src/protocol/request-state.js';
import { StaticKeyRing } from '../../src/protocol/stores.js';
import { UriTemplate } from '../../src/server/uri-template.js';
import { encodeSseEvent, SSE_KEEPALIVE } from '../../src/transports/shared/sse.js';
import {
  createFrameReader,
  MessagePackEncoder,
  readCodecAnswer,
  readCodecRequest,
} from '../../src/transports/stream/codec.js';
import { encodeFrame, LengthPrefixDecoder } from '../../src/transports/stream/length-prefix.js';
import { encodeHeaderValue } from '../../src/transports/streamable-http/client-headers.js';
import { SseDecoder } from '../../src/transports/streamable-http/client-sse.js';
import { decodeHeaderValue } from '../../src/transports/streamable-http/mcp-headers.js';
import { exceedsBytes, peekLeadingId, utf8Length } from '../../src/transports/websocket/codec.js';
import { chunk, jsonRpcMessage, readSizes, stringOver, wellFormedString } from './arbitraries.js';

/** One fuzz target. */
export interface FuzzTarget {
  name: string;
  /** Inputs per CI run (the property suites). */
  ciRuns: number;
  /** Inputs per `npm run fuzz`. */
  fuzzRuns: number;
  property: fc.IRawProperty<any, boolean>;
}

const JSON_CHARS = '{}[]":,0123456789.-+eE truefalsnl\\u"ab\n\r\t';
const BLOCK_BYTES = 64 * 1024;

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

// ----------------------------------------------------------------------------------------------
// JSON-RPC parsing and validation

const jsonrpcRoundTrip: FuzzTarget = {
  name: 'jsonrpc: serialize then parse round-trips every valid message',
  ciRuns: 500,
  fuzzRuns: 150_000,
  property: fc.property(jsonRpcMessage, (m) => {
    const r = parseMessage(serializeMessage(m));
    check(r.ok && 'message' in r, `valid message refused: ${JSON.stringify(r)}`);
    check(JSON.stringify((r as { message: unknown }).message) === JSON.stringify(m), 'message changed');
    return true;
  }),
};

/** What parseMessage may answer: a message, a batch, or -32700 / -32600 with a readable id. */
function checkParseResult(r: ReturnType<typeof parseMessage>): void {
  if (r.ok) return;
  check(
    r.error.error.code === -32700 || r.error.error.code === -32600,
    `unexpected code ${r.error.error.code}`,
  );
  const id = r.error.id;
  check(id === null || typeof id === 'string' || Number.isInteger(id), 'error response id is not readable');
}

const jsonrpcText: FuzzTarget = {
  name: 'jsonrpc: parseMessage never throws on arbitrary text; only -32700/-32600',
  ciRuns: 1000,
  fuzzRuns: 200_000,
  property: fc.property(
    fc.oneof(
      stringOver(JSON_CHARS, 60),
      fc.string(),
      fc.json(),
      jsonRpcMessage.map((m) => JSON.stringify(m).slice(1)),
    ),
    (text) => {
      checkParseResult(parseMessage(text));
      return true;
    },
  ),
};

const jsonrpcValues: FuzzTarget = {
  name: 'jsonrpc: validateValue never throws on arbitrary values, batches keep order',
  ciRuns: 1000,
  fuzzRuns: 150_000,
  property: fc.property(
    fc.oneof(
      fc.anything(),
      fc.jsonValue(),
      fc.array(fc.oneof(jsonRpcMessage, fc.jsonValue({ maxDepth: 1 })), { maxLength: 5 }),
      jsonRpcMessage.chain((m) =>
        fc
          .record({
            key: fc.constantFrom('id', 'jsonrpc', 'method', 'result', 'error', 'params'),
            v: fc.jsonValue({ maxDepth: 1 }),
          })
          .map(({ key, v }) => ({ ...m, [key]: v })),
      ),
    ),
    (value) => {
      const r = validateValue(value);
      checkParseResult(r);
      if (r.ok && 'batch' in r && Array.isArray(value)) {
        check(r.batch.length + r.errors.length === value.length, 'batch lost entries');
        const kept = value.filter((v) => r.batch.includes(v as never));
        check(kept.length === r.batch.length, 'batch entries are not the same objects, in order');
      }
      return true;
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// Line framing

const lineText = fc
  .oneof(wellFormedString(30), stringOver('ab\r{}"é', 30))
  .map((s) => s.replace(/\n/g, ''))
  .filter((s) => s.length > 0 && !s.endsWith('\r'));

const lineFraming: FuzzTarget = {
  name: 'line framing: any chunking of any lines decodes to the same lines; oversize reported, never held',
  ciRuns: 300,
  fuzzRuns: 60_000,
  property: fc.property(
    fc.array(fc.record({ text: lineText, crlf: fc.boolean(), big: fc.nat({ max: 4 }) }), { maxLength: 12 }),
    readSizes,
    fc.integer({ min: 8, max: 48 }),
    (lines, sizes, max) => {
      // Some lines are made longer than the limit, some exactly as long.
      const texts = lines.map((l) =>
        l.big === 0 ? l.text.padEnd(max + 1 + l.text.length, 'x') : l.big === 1 ? 'y'.repeat(max) : l.text,
      );
      const wire = Buffer.from(texts.map((t, i) => `${t}${lines[i]!.crlf ? '\r\n' : '\n'}`).join(''));
      const got: string[] = [];
      let overflows = 0;
      const d = new LineDecoder({
        maxMessageBytes: max,
        online: (l) => got.push(l),
        onoverflow: () => overflows++,
      });
      for (const c of chunk(wire, sizes)) {
        d.push(c);
        check(d.bufferedBytes <= max + 1, `held ${d.bufferedBytes} bytes over a limit of ${max}`);
        check(d.retainedBytes <= max + 1 + BLOCK_BYTES, 'retained memory over the bound');
      }
      const expected = texts.filter((t) => Buffer.byteLength(t) <= max);
      check(
        JSON.stringify(got) === JSON.stringify(expected),
        `lines differ: ${JSON.stringify({ got, expected })}`,
      );
      check(overflows === texts.length - expected.length, 'each oversize line reported once');
      check(d.work.scanned === wire.length, 'each byte scanned once');
      check(d.work.copied <= 2 * wire.length, 'each byte copied at most twice');
      return true;
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// Length-prefix framing and the MessagePack reader

const lengthPrefixFraming: FuzzTarget = {
  name: 'length-prefix framing: any chunking decodes the same payloads; oversize reported, skipped, never held',
  ciRuns: 300,
  fuzzRuns: 60_000,
  property: fc.property(
    fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 12 }),
    readSizes,
    fc.integer({ min: 1, max: 64 }),
    (payloads, sizes, max) => {
      const wire = Buffer.concat(payloads.map((p) => encodeFrame(p)));
      const got: string[] = [];
      const overflows: number[] = [];
      const d = new LengthPrefixDecoder({
        maxMessageBytes: max,
        onframe: (f) => got.push(Buffer.from(f).toString('hex')),
        onoverflow: (n) => overflows.push(n),
      });
      for (const c of chunk(wire, sizes)) {
        d.push(c);
        check(d.bufferedBytes <= max + 4, `held ${d.bufferedBytes} bytes over a limit of ${max}`);
      }
      const expected = payloads
        .filter((p) => p.length > 0 && p.length <= max)
        .map((p) => Buffer.from(p).toString('hex'));
      check(JSON.stringify(got) === JSON.stringify(expected), 'payloads differ');
      check(
        JSON.stringify(overflows) ===
          JSON.stringify(payloads.filter((p) => p.length > max).map((p) => p.length)),
        'oversize frames not reported once each, in order',
      );
      check(d.bufferedBytes === 0, 'bytes left over');
      check(d.copiedBytes <= 2 * wire.length, 'each byte copied at most twice');
      return true;
    },
  ),
};

const msgpackReader: FuzzTarget = {
  name: 'MessagePack frames: messages round-trip through any chunking; arbitrary bytes never throw',
  ciRuns: 300,
  fuzzRuns: 60_000,
  property: fc.property(
    fc.array(jsonRpcMessage, { maxLength: 6 }),
    fc.uint8Array({ maxLength: 60 }),
    readSizes,
    (messages, garbage, sizes) => {
      const enc = new MessagePackEncoder();
      const got: unknown[] = [];
      const codes: number[] = [];
      const reader = createFrameReader({
        maxMessageBytes: 4096,
        onmessage: (m) => got.push(m),
        oninvalid: (e) => codes.push(e.error.code),
      });
      const wire = Buffer.concat(messages.map((m) => enc.frame(m)));
      for (const c of chunk(wire, sizes)) reader.push(c);
      check(JSON.stringify(got) === JSON.stringify(messages), 'messages differ');
      check(codes.length === 0, 'valid frames refused');
      // Garbage, framed or not: only -32700/-32600 answers, no exception.
      reader.push(encodeFrame(garbage));
      reader.reset();
      reader.push(Buffer.from(garbage));
      check(
        codes.every((c) => c === -32700 || c === -32600),
        `unexpected codes ${codes.join(',')}`,
      );
      return true;
    },
  ),
};

const codecLines: FuzzTarget = {
  name: 'stream codec negotiation and WebSocket codec: arbitrary text never throws; byte counts exact',
  ciRuns: 500,
  fuzzRuns: 100_000,
  property: fc.property(
    fc.oneof(
      fc.string(),
      stringOver(JSON_CHARS, 60),
      jsonRpcMessage.map((m) => JSON.stringify(m)),
    ),
    (text) => {
      readCodecRequest(text);
      readCodecAnswer(text);
      const id = peekLeadingId(text);
      if (id !== undefined) {
        const parsed = (() => {
          try {
            return JSON.parse(text) as { id?: unknown };
          } catch {
            return undefined;
          }
        })();
        if (parsed && typeof parsed === 'object')
          check(parsed.id === id, `peeked id ${String(id)} is not the id`);
      }
      if (!/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
        const bytes = Buffer.byteLength(text);
        check(utf8Length(text) === bytes, 'utf8Length differs from Buffer.byteLength');
        check(
          exceedsBytes(text, bytes) === false && (bytes === 0 || exceedsBytes(text, bytes - 1)),
          'exceedsBytes',
        );
      }
      return true;
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// SSE: the server's encoder and the client's decoder

const noLineBreak = (s: string) => s.replace(/[\r\n]/g, '');
const sseEvent = fc.record({
  data: fc.oneof(
    wellFormedString(30).map(noLineBreak),
    jsonRpcMessage.map((m) => JSON.stringify(m)),
  ),
  id: fc.option(
    wellFormedString(8).map((s) => noLineBreak(s).replace(/\0/g, '')),
    { nil: undefined },
  ),
  event: fc.option(
    stringOver('abc: ', 8).filter((s) => s.length > 0),
    { nil: undefined },
  ),
  keepAlive: fc.boolean(),
});

const sseRoundTrip: FuzzTarget = {
  name: 'SSE: encoded events decode the same through any chunking and any line ending',
  ciRuns: 300,
  fuzzRuns: 60_000,
  property: fc.property(
    fc.array(sseEvent, { maxLength: 8 }),
    fc.constantFrom('\n', '\r\n', '\r'),
    fc.boolean(),
    readSizes,
    (events, eol, bom, sizes) => {
      let text = bom ? '\ufeff' : '';
      for (const e of events)
        text += (e.keepAlive ? SSE_KEEPALIVE : '') + encodeSseEvent(e.data, e.id, e.event);
      const wire = Buffer.from(text.replace(/\n/g, eol));
      const got: unknown[] = [];
      const d = new SseDecoder({ maxEventBytes: 1 << 20, onevent: (e) => got.push(e) });
      for (const c of chunk(wire, sizes)) d.push(c);
      const expected = events.map((e) => ({
        data: e.data,
        ...(e.id !== undefined ? { id: e.id } : {}),
        ...(e.event !== undefined && e.event !== '' ? { event: e.event } : {}),
      }));
      check(
        JSON.stringify(got) === JSON.stringify(expected),
        `events differ: ${JSON.stringify({ got, expected })}`,
      );
      check(d.bufferedBytes === 0 || (bom && events.length === 0), 'bytes left over');
      check(d.work.scanned <= 2 * wire.length && d.work.copied <= 2 * wire.length, 'work beyond linear');
      return true;
    },
  ),
};

const sseArbitrary: FuzzTarget = {
  name: 'SSE: arbitrary bytes never throw but MESSAGE_TOO_LARGE; memory stays bounded',
  ciRuns: 500,
  fuzzRuns: 100_000,
  property: fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      stringOver('data:id:event:retry: \r\n\0é1', 120).map((s) => Buffer.from(s)),
    ),
    readSizes,
    fc.integer({ min: 1, max: 64 }),
    (bytes, sizes, max) => {
      const d = new SseDecoder({
        maxEventBytes: max,
        onevent: (e) => check(Buffer.byteLength(e.data) <= max, 'event over the limit'),
        onretry: () => {},
      });
      for (const c of chunk(bytes, sizes)) {
        try {
          d.push(c);
        } catch (e) {
          check(e instanceof McpError && e.code === 'MESSAGE_TOO_LARGE', `unexpected ${String(e)}`);
        }
        check(d.bufferedBytes <= 2 * max + 64, 'held bytes over the bound');
      }
      d.end();
      return true;
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// Mcp-Param / Mcp-Name header values

const headerValues: FuzzTarget = {
  name: 'Mcp-Param headers: any well-formed string round-trips and encodes to a valid header value',
  ciRuns: 1000,
  fuzzRuns: 150_000,
  property: fc.property(
    fc.oneof(
      wellFormedString(40),
      stringOver(' =?base64?é\t\u0000ab', 20),
      fc.string({ unit: 'grapheme-ascii' }),
    ),
    fc.string(),
    (value, raw) => {
      const encoded = encodeHeaderValue(value);
      check(
        /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(encoded),
        `not a header value: ${JSON.stringify(encoded)}`,
      );
      check(
        decodeHeaderValue(encoded) === value,
        `round trip of ${JSON.stringify(value)} gave ${JSON.stringify(decodeHeaderValue(encoded))}`,
      );
      const d = decodeHeaderValue(raw); // never throws
      check(d === undefined || typeof d === 'string', 'decode result');
      return true;
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// requestState sealing

const ring = new StaticKeyRing([{ id: 'k1', secret: 'fuzzing secret of at least thirty-two bytes' }]);
const STATE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/';

const requestStateSealing: FuzzTarget = {
  name: 'requestState: sealed states open to their payload; any changed character is refused; no throw',
  ciRuns: 100,
  fuzzRuns: 20_000,
  property: fc.asyncProperty(
    fc.record({
      sub: fc.string({ maxLength: 10 }),
      dig: fc.string({ maxLength: 10 }),
      data: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    }),
    fc.nat(),
    fc.constantFrom(...STATE_CHARS),
    fc.string({ maxLength: 30 }),
    async (p, at, c, garbage) => {
      const payload = { exp: Date.now() + 60_000, ...p };
      const sealed = await sealState(ring, payload);
      const opened = await openState(ring, sealed, { sub: p.sub, dig: p.dig });
      check(
        opened.ok && JSON.stringify(opened.payload) === JSON.stringify(payload),
        'did not open to its payload',
      );
      const i = at % sealed.length;
      if (sealed[i] !== c) {
        const changed = sealed.slice(0, i) + c + sealed.slice(i + 1);
        check(
          !(await openState(ring, changed, { sub: p.sub, dig: p.dig })).ok,
          `changed state accepted: ${i} -> ${c}`,
        );
      }
      check(!(await openState(ring, garbage, { sub: p.sub, dig: p.dig })).ok, 'garbage accepted');
      return true;
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// URI templates

/** Per operator: the characters a value must not hold for expand-then-match to give it back. */
const URI_OPS: { op: string; forbid: RegExp; explode: boolean }[] = [
  { op: '', forbid: /(?!)/g, explode: true },
  { op: '+', forbid: /[%,]/g, explode: true },
  { op: '#', forbid: /[%,]/g, explode: false },
  { op: '.', forbid: /\./g, explode: true },
  { op: '/', forbid: /(?!)/g, explode: true },
  { op: ';', forbid: /\./g, explode: false },
  { op: '?', forbid: /(?!)/g, explode: false },
  { op: '&', forbid: /(?!)/g, explode: false },
];
const uriValue = fc.oneof(wellFormedString(10), stringOver('ab/?#,.;&=%+!*é ', 10));

const uriRoundTrip: FuzzTarget = {
  name: 'URI templates: expand then match gives the variables back, for every operator, in linear steps',
  ciRuns: 500,
  fuzzRuns: 100_000,
  property: fc.property(
    fc.array(
      fc.record({
        op: fc.constantFrom(...URI_OPS),
        explode: fc.boolean(),
        value: uriValue,
        list: fc.array(
          uriValue.filter((s) => s.length > 0),
          { minLength: 1, maxLength: 3 },
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    fc.constantFrom('x://', 'file:///', ''),
    (exprs, prefix) => {
      const vars: Record<string, string | string[]> = {};
      const parts = exprs.map((e, i) => {
        const name = `v${i}`;
        const explode = e.explode && e.op.explode;
        const clean = (s: string) => s.replace(e.op.forbid, '');
        vars[name] = explode ? e.list.map(clean).filter((s) => s.length > 0) : clean(e.value);
        if (explode && (vars[name] as string[]).length === 0) vars[name] = ['a'];
        return `{${e.op.op}${name}${explode ? '*' : ''}}`;
      });
      // `|` is never left unencoded by an expansion, so it separates the expressions unambiguously.
      const t = new UriTemplate(prefix + parts.join('|'));
      const uri = t.expand(vars);
      const got = t.match(uri);
      check(
        JSON.stringify(got) === JSON.stringify(vars),
        `${t.template} on ${uri}: ${JSON.stringify(got)} != ${JSON.stringify(vars)}`,
      );
      check(t.lastMatchSteps <= t.stepsBound(uri.length), 'steps over the linear bound');
      return true;
    },
  ),
};

const uriArbitrary: FuzzTarget = {
  name: 'URI templates: any template and URI: match never throws and stays within the linear bound',
  ciRuns: 500,
  fuzzRuns: 100_000,
  property: fc.property(
    fc.array(
      fc.oneof(
        stringOver('x/:.|', 3),
        fc
          .record({
            op: fc.constantFrom('', '+', '#', '.', '/', ';', '?', '&'),
            names: fc.array(fc.constantFrom('a', 'b', 'c*', 'd:2'), { minLength: 1, maxLength: 3 }),
          })
          .map(({ op, names }) => `{${op}${names.join(',')}}`),
      ),
      { maxLength: 5 },
    ),
    stringOver('ab/?#,.;&=%x:|', 60),
    (parts, uri) => {
      const t = new UriTemplate(parts.join(''));
      t.match(uri);
      check(t.lastMatchSteps <= t.stepsBound(uri.length), 'steps over the linear bound');
      return true;
    },
  ),
};

/** Every target, in the order `npm run fuzz` runs them. */
export const targets: readonly FuzzTarget[] = [
  jsonrpcRoundTrip,
  jsonrpcText,
  jsonrpcValues,
  lineFraming,
  lengthPrefixFraming,
  msgpackReader,
  codecLines,
  sseRoundTrip,
  sseArbitrary,
  headerValues,
  requestStateSealing,
  uriRoundTrip,
  uriArbitrary,
];
