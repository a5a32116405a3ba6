/**
 * Server-Sent Events encoding as a pure unit (WHATWG HTML "Server-sent events"; MCP transports put
 * one JSON-RPC message per `data:` line). JSON from `JSON.stringify` has no raw newlines, so each
 * message is one line.
 * @module
 */

/** An SSE comment line that keeps idle connections open through proxies. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

/** Encodes one event. `data` must not contain newlines (compact JSON never does). */
export function encodeSseEvent(data: string, id?: string, event?: string, retryMs?: number): string {
  let out = '';
  if (retryMs !== undefined) out += `retry: ${retryMs}\n`;
  if (event !== undefined) out += `event: ${event}\n`;
  if (id !== undefined) out += `id: ${id}\n`;
  return `${out}data: ${data}\n\n`;
}
