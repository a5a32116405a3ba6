/**
 * Turns newline-delimited bytes into validated JSON-RPC messages for a {@link Transport}:
 * framing by {@link LineDecoder}, then parsing; bad frames are answered (servers) or reported.
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { LineDecoder } from '../../jsonrpc/framing.js';
import { deliverParsed, parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcErrorResponse, JsonRpcMessage } from '../../jsonrpc/types.js';

/** Callbacks of {@link createLineReader}. */
export interface LineReaderHandlers {
  maxMessageBytes?: number;
  onmessage: (message: JsonRpcMessage | JsonRpcMessage[]) => void;
  /** A frame that is not valid JSON-RPC, with the error response that answers it. */
  oninvalid: (response: JsonRpcErrorResponse, line: string | undefined) => void;
}

/** Creates the decoder; feed it with `push(chunk)`. */
export function createLineReader(h: LineReaderHandlers): LineDecoder {
  const decoder: LineDecoder = new LineDecoder({
    maxMessageBytes: h.maxMessageBytes,
    online: (line) => deliverParsed(parseMessage(line), h.onmessage, (e) => h.oninvalid(e, line)),
    onoverflow: (bytes) =>
      h.oninvalid(
        errorResponse(
          null,
          ErrorCode.InvalidRequest,
          `Invalid Request: message of ${bytes} bytes exceeds maxMessageBytes (${decoder.maxMessageBytes})`,
        ),
        undefined,
      ),
  });
  return decoder;
}
