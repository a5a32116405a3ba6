/**
 * A POST of the 2026-07-28 stateless transport (2026-07-28 basic/transports "Streamable HTTP"):
 * the request-metadata checks (`_meta` fields, `MCP-Protocol-Version` and `Mcp-*` headers), then
 * one dispatch answered as JSON or as an SSE stream; closing the response cancels the request.
 * @module
 */
import { ErrorCode } from '../../jsonrpc/errors.js';
import type { JsonRpcErrorResponse, JsonRpcMessage, JsonRpcRequest } from '../../jsonrpc/types.js';
import { isModernVersion, META } from '../../protocol/constants.js';
import { supportedVersions } from '../../protocol/eras.js';
import { InboundCall, toErrorResponse } from '../../protocol/peer.js';
import type { MessageContext } from '../../protocol/transport.js';
import type { AuthInfo, JsonObject } from '../../protocol/types.js';
import type { HttpExchange } from './exchange.js';
import { sendError, statusFor } from './handler-options.js';
import type { HandlerContext } from './handler-options.js';
import { checkMcpHeaders, headerParams } from './mcp-headers.js';
import { PostSink } from './post-sink.js';

/** Serves one 2026-07-28 POST. Never throws: every failure becomes a response. */
export async function modernPost(
  hc: HandlerContext,
  ex: HttpExchange,
  cors: Record<string, string>,
  message: JsonRpcMessage,
  params: JsonObject | undefined,
  authInfo: AuthInfo | undefined,
): Promise<void> {
  if (!('id' in message) || !('method' in message)) {
    // Client notifications have no defined meaning on 2026-07-28 HTTP; accept and ignore them.
    ex.send(202, cors);
    return;
  }
  const request = message as JsonRpcRequest;
  const id = request.id;
  const meta = params?._meta as JsonObject | undefined;
  const version = meta?.[META.protocolVersion];
  const caps = meta?.[META.clientCapabilities];
  if (typeof version !== 'string' || typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    const missing = typeof version !== 'string' ? META.protocolVersion : META.clientCapabilities;
    sendError(
      ex,
      400,
      id,
      ErrorCode.InvalidParams,
      `Invalid params: missing required _meta field "${missing}"`,
      cors,
    );
    return;
  }
  const headerVersion = ex.header('mcp-protocol-version');
  if (headerVersion !== version) {
    sendError(
      ex,
      400,
      id,
      ErrorCode.HeaderMismatch,
      headerVersion === undefined
        ? 'Header mismatch: missing MCP-Protocol-Version header'
        : `Header mismatch: MCP-Protocol-Version header value '${headerVersion}' does not match body value '${version}'`,
      cors,
    );
    return;
  }
  const server = hc.server;
  if (!isModernVersion(version) || !supportedVersions(server).includes(version)) {
    sendError(ex, 400, id, ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', cors, {
      supported: [...supportedVersions(server)],
      requested: version,
    });
    return;
  }
  const tool =
    request.method === 'tools/call' && typeof params?.name === 'string'
      ? server.tools.get(params.name)
      : undefined;
  const mismatch = checkMcpHeaders(
    (n) => ex.header(n),
    request.method,
    params,
    tool ? headerParams(tool.listing.inputSchema) : undefined,
  );
  if (mismatch) {
    sendError(ex, 400, id, ErrorCode.HeaderMismatch, mismatch, cors);
    return;
  }
  if (hc.streams.full) {
    sendError(ex, 503, id, ErrorCode.InternalError, 'Service Unavailable: too many open streams', cors);
    return;
  }
  const call = new InboundCall(id, request.method);
  const sink = new PostSink(ex, {
    headers: cors,
    mode: hc.options.responseMode ?? 'auto',
    keepAliveMs: hc.limits.keepAliveIntervalMs,
    onstream: (stream) => hc.streams.track(stream),
    onsettle: hc.streams.begin(),
  });
  // Closing the response stream cancels the request (2026-07-28 streamable-http "Cancellation").
  ex.onabort(() => call.cancel('the client closed the response stream'));
  const context: MessageContext = { binding: 'http', headers: ex.headers(), authInfo };
  let response: JsonRpcMessage;
  try {
    const result = await server.dispatch(request, {
      call,
      context,
      notify: async (method, p) =>
        sink.notify(p === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params: p }),
    });
    response = { jsonrpc: '2.0', id, result };
  } catch (error) {
    response = toErrorResponse(id, error);
  }
  if (call.cancelled) {
    sink.finish(response);
    return;
  }
  sink.finish(response, 'error' in response ? statusFor((response as JsonRpcErrorResponse).error.code) : 200);
}
