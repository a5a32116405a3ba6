/**
 * `anywire/stream`: the byte-stream bindings (Node only). Newline-delimited JSON-RPC, the stdio
 * framing, over TCP, Unix domain sockets and TLS (mutual TLS optional, the client certificate
 * reaching handlers as `ctx.authInfo`), server and client, with an `authenticator` that admits each
 * connection on its first message (`_meta.authorization`; refusals are JSON-RPC error -32030, then
 * close); and an optional MessagePack codec a
 * client asks for in its first line and a server may grant (see `codec.ts`).
 *
 *     const handle = await serveTcp(server, { port: 7070 });        // tcp://127.0.0.1:7070
 *     await client.connect(connectStream('tcp://127.0.0.1:7070'));
 * @module
 */

export type {
  ConnectStreamOptions,
  StreamClientOptions,
  StreamTarget,
  TcpClientOptions,
  TlsClientOptions,
  UnixClientOptions,
} from './client.js';
export {
  connectStream,
  DEFAULT_CERTIFICATE_CHECK_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  describeSocketError,
  parseStreamUrl,
  StreamClientTransport,
  TcpClientTransport,
  TlsClientTransport,
  UnixClientTransport,
} from './client.js';
export type { BinaryCodecName, FrameReaderHandlers, StreamCodecName } from './codec.js';
export {
  BINARY_CODECS,
  chooseCodec,
  CODEC_METHOD,
  codecAnswerLine,
  codecRequest,
  createFrameReader,
  MessagePackEncoder,
  readCodecAnswer,
  readCodecRequest,
} from './codec.js';
export { FrameWriter } from './frame-writer.js';
export type { LengthPrefixDecoderOptions } from './length-prefix.js';
export {
  encodeFrame,
  LENGTH_PREFIX_BYTES,
  LengthPrefixDecoder,
  MAX_FRAME_PAYLOAD_BYTES,
} from './length-prefix.js';
export type {
  ServeTcpOptions,
  ServeTlsOptions,
  ServeUnixOptions,
  StreamServeOptions,
  StreamServerHandle,
} from './server.js';
export { DEFAULT_MAX_CONNECTIONS, serveTcp, serveTls, serveUnix } from './server.js';
export type { SocketTransportOptions, StreamBinding } from './socket-transport.js';
export {
  DEFAULT_CODEC_TIMEOUT_MS,
  DEFAULT_STREAM_CLOSE_TIMEOUT_MS,
  SocketTransport,
} from './socket-transport.js';
export type { Authenticator, AuthRequest, CertificateIdentity } from '../../protocol/auth.js';
export { AuthError } from '../../protocol/auth.js';
export type { SubjectAltName } from '../shared/certificate.js';
export {
  certificateAuthInfo,
  certificateIdentity,
  parseSubjectAltNames,
  x5tS256,
} from '../shared/certificate.js';
export type { AuthErrorData } from '../shared/ingress.js';
export { AUTH_ERROR_CODE, authErrorResponse } from '../shared/ingress.js';
export type { StreamPeer } from './admitted-transport.js';
export { AdmittedStreamTransport } from './admitted-transport.js';
