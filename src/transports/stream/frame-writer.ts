/**
 * Coalescing writer of binary frames for the negotiated binary codec: the shared
 * `CoalescingWriter` with an encoder that makes one complete frame per message.
 * @module
 */
import type { Writable } from 'node:stream';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { CoalescingWriter } from '../shared/line-writer.js';

/** Writes JSON-RPC messages as frames made by `encode`. */
export class FrameWriter extends CoalescingWriter<Buffer> {
  /**
   * @param stream the destination
   * @param encode turns one message (or batch) into one complete frame
   */
  constructor(stream: Writable, encode: (message: JsonRpcMessage | JsonRpcMessage[]) => Buffer) {
    super(stream, encode);
  }
}
