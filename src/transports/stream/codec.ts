/**
 * Codec negotiation for the byte-stream bindings, and the MessagePack codec.
 *
 * A connection starts in newline-delimited JSON, the stdio framing (MCP basic/transports: "custom
 * byte-stream transports SHOULD reuse stdio framing"). A client that prefers a binary codec says so
 * in its very first line, a JSON-RPC request:
 *
 *     → {"jsonrpc":"2.0","id":"anywire/codec","method":"anywire/codec","params":{"accept":["msgpack"]}}
 *
 * and sends nothing else until it has the answer, which is the server's first line:
 *
 *     ← {"jsonrpc":"2.0","id":"anywire/codec","result":{"codec":"msgpack"}}   granted
 *     ← {"jsonrpc":"2.0","id":"anywire/codec","result":{"codec":"ndjson"}}    known, nothing in common
 *     ← {"jsonrpc":"2.0","id":"anywire/codec","error":{"code":-32601,...}}    unknown (any other server)
 *
 * When granted, both sides switch right after that line: every later message, both ways, is one
 * frame of a 4-byte big-endian length and a MessagePack payload ({@link LengthPrefixDecoder}). Any
 * other answer leaves both on NDJSON. Only the first line of a connection is a negotiation; an
 * `anywire/codec` request later on is an ordinary (unknown) method. Clients that never ask (`nc`,
 * other MCP implementations) are unaffected.
 *
 * MessagePack carries the same JSON-RPC messages: values must be plain JSON data. `undefined`
 * members are dropped and `Date`s arrive as ISO strings, as `JSON.stringify` would have them.
 * @module
 */
import {
  decodeTimestampExtension,
  Decoder,
  Encoder,
  encodeTimestampExtension,
  ExtensionCodec,
} from '@msgpack/msgpack';
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { deliverParsed, validateValue } from '../../jsonrpc/parse.js';
import type { JsonRpcErrorResponse, JsonRpcId, JsonRpcMessage, JsonRpcRequest } from '../../jsonrpc/types.js';
import { encodeFrame, LengthPrefixDecoder } from './length-prefix.js';

/** The negotiation request's method (and the id clients use for it). */
export const CODEC_METHOD = 'anywire/codec';

/** Binary codecs a connection can switch to. */
export type BinaryCodecName = 'msgpack';

/** What a connection speaks: the stdio framing, or a negotiated binary codec. */
export type StreamCodecName = 'ndjson' | BinaryCodecName;

/** Binary codecs this build implements, in preference order. */
export const BINARY_CODECS: readonly BinaryCodecName[] = Object.freeze(['msgpack'] as const);

/** The request a client sends as its first line to ask for one of `accept` (in preference order). */
export function codecRequest(accept: readonly BinaryCodecName[]): JsonRpcRequest {
  return { jsonrpc: '2.0', id: CODEC_METHOD, method: CODEC_METHOD, params: { accept: [...accept] } };
}

/**
 * Reads a server's first line as a negotiation request: the request id and the client's accepted
 * codecs, or `undefined` when the line is anything else (then it is an ordinary message).
 */
export function readCodecRequest(line: string): { id: JsonRpcId; accept: string[] } | undefined {
  if (!line.includes(CODEC_METHOD)) return undefined;
  let value: any;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value?.jsonrpc !== '2.0' || value.method !== CODEC_METHOD) return undefined;
  if (typeof value.id !== 'string' && !Number.isInteger(value.id)) return undefined;
  const accept = Array.isArray(value.params?.accept)
    ? value.params.accept.filter((c: unknown): c is string => typeof c === 'string')
    : [];
  return { id: value.id as JsonRpcId, accept };
}

/** The first of the client's `accept` list the server `offers`, or `undefined`. */
export function chooseCodec(
  accept: readonly string[],
  offers: readonly BinaryCodecName[],
): BinaryCodecName | undefined {
  return accept.find((c): c is BinaryCodecName => (offers as readonly string[]).includes(c));
}

/** The server's answer line (with its newline) granting `codec`, or `ndjson` for none. */
export function codecAnswerLine(id: JsonRpcId, codec: StreamCodecName): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, result: { codec } })}\n`;
}

/**
 * Reads a client's first inbound line as the negotiation answer: the codec granted (`ndjson` for an
 * error answer or none in common), or `undefined` when the line is not the answer.
 */
export function readCodecAnswer(line: string): string | undefined {
  let value: any;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (value?.jsonrpc !== '2.0' || value.id !== CODEC_METHOD || 'method' in value) return undefined;
  if ('error' in value) return 'ndjson';
  const codec = value.result?.codec;
  return typeof codec === 'string' ? codec : 'ndjson';
}

// A `Date` crosses as the MessagePack timestamp and is read back as the ISO string JSON would give.
const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: -1,
  encode: encodeTimestampExtension,
  decode: (data: Uint8Array) => (decodeTimestampExtension(data) as Date).toISOString(),
});

/** Encodes JSON-RPC messages as length-prefixed MessagePack frames. */
export class MessagePackEncoder {
  #encoder = new Encoder({ extensionCodec, ignoreUndefined: true });

  /** One frame (header and payload) for `message`. */
  frame(message: JsonRpcMessage | JsonRpcMessage[]): Buffer {
    return encodeFrame(this.#encoder.encodeSharedRef(message));
  }
}

/** Callbacks of {@link createFrameReader}; the same shape as the line reader's. */
export interface FrameReaderHandlers {
  /** Largest accepted payload in bytes. Default 4 MiB. */
  maxMessageBytes?: number;
  onmessage: (message: JsonRpcMessage | JsonRpcMessage[]) => void;
  /** A frame that is not valid JSON-RPC, with the error response that answers it. */
  oninvalid: (response: JsonRpcErrorResponse) => void;
}

/**
 * Turns length-prefixed MessagePack bytes into validated JSON-RPC messages: an undecodable payload
 * is -32700, a structurally invalid message -32600, an oversized frame -32600 (and skipped).
 */
export function createFrameReader(h: FrameReaderHandlers): LengthPrefixDecoder {
  const decoder = new Decoder({ extensionCodec });
  const reader: LengthPrefixDecoder = new LengthPrefixDecoder({
    maxMessageBytes: h.maxMessageBytes,
    onframe: (payload) => {
      let value: unknown;
      try {
        value = decoder.decode(payload);
      } catch (e) {
        h.oninvalid(
          errorResponse(
            null,
            ErrorCode.ParseError,
            `Parse error: invalid MessagePack: ${(e as Error).message}`,
          ),
        );
        return;
      }
      deliverParsed(validateValue(value), h.onmessage, h.oninvalid);
    },
    onoverflow: (bytes) =>
      h.oninvalid(
        errorResponse(
          null,
          ErrorCode.InvalidRequest,
          `Invalid Request: message of ${bytes} bytes exceeds maxMessageBytes (${reader.maxMessageBytes})`,
        ),
      ),
  });
  return reader;
}
