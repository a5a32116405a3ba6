/**
 * `anywire/grpc`: the gRPC binding (Node only). One service, `anywire.mcp.v1.Mcp` in
 * `proto/anywire/mcp/v1/mcp.proto` (shipped in the package, documented for other languages), with a
 * bidirectional `Session` stream that carries unchanged JSON-RPC in both eras and a `Call` for one
 * self-contained modern request. Metadata carries auth and the MCP request metadata; deadlines and
 * stream cancellation map to MCP cancellation; TLS and mutual TLS. A custom transport in the sense
 * of MCP basic/transports: JSON-RPC messages, message patterns and per-request `_meta` unchanged,
 * framing and cancellation documented in the .proto.
 * @module
 */
export type { Authenticator, AuthRequest, CertificateIdentity } from '../../protocol/auth.js';
export { AuthError } from '../../protocol/auth.js';
export { certificateAuthInfo, certificateIdentity } from '../shared/certificate.js';
export { refusalStatus } from './auth.js';
export type { GrpcClientTlsOptions, GrpcClientTransportOptions } from './client.js';
export {
  connectGrpc,
  DEFAULT_GRPC_CLOSE_TIMEOUT_MS,
  DEFAULT_GRPC_CONNECT_TIMEOUT_MS,
  describeGrpcError,
  GrpcClientTransport,
} from './client.js';
export type { Frame, McpProto } from './proto.js';
export { loadMcpProto, MCP_GRPC_SERVICE, MCP_PROTO_PATH } from './proto.js';
export type { GrpcServerHandle, GrpcServerTlsOptions, ServeGrpcOptions } from './server.js';
export { DEFAULT_GRPC_SHUTDOWN_GRACE_MS, grpcServerCredentials, serveGrpc } from './server.js';
export type { GrpcMcpService, GrpcServiceOptions } from './service.js';
export { createGrpcService, DEFAULT_GRPC_MAX_CONNECTIONS, DEFAULT_GRPC_MAX_STREAMS } from './service.js';
