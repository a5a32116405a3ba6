/**
 * The gRPC contract, loaded at run time from the `.proto` file that ships in the package
 * (`proto/anywire/mcp/v1/mcp.proto`), so the file other languages read and the definition this
 * binding serves are one and the same.
 * @module
 */
import { fileURLToPath } from 'node:url';
import type { ServiceClientConstructor, ServiceDefinition } from '@grpc/grpc-js';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * Absolute path of `mcp.proto`. Resolved from this module's URL: `src/transports/grpc/proto.ts`
 * (run through tsx) and `dist/transports/grpc/proto.js` both sit three levels below the package
 * root, beside `proto/`.
 */
export const MCP_PROTO_PATH: string = fileURLToPath(
  new URL('../../../proto/anywire/mcp/v1/mcp.proto', import.meta.url),
);

/** Fully qualified name of the service (`package.Service`). */
export const MCP_GRPC_SERVICE = 'anywire.mcp.v1.Mcp';

/** One gRPC message: one JSON-RPC message as UTF-8 JSON text (see `mcp.proto`). */
export interface Frame {
  json: string;
}

/** What {@link loadMcpProto} returns. */
export interface McpProto {
  /** The service definition, for `grpc.Server.addService`. */
  service: ServiceDefinition;
  /** A generated client class (`new Client(target, credentials, options)`), methods `Session` and `Call`. */
  Client: ServiceClientConstructor;
}

let cached: McpProto | undefined;

/**
 * Loads `mcp.proto` with `@grpc/proto-loader` (once per process) and returns the service.
 * @throws Error when the file is missing (a package built without `proto/` in its `files`)
 */
export function loadMcpProto(): McpProto {
  if (cached) return cached;
  const definition = loadSync(MCP_PROTO_PATH, { keepCase: true, defaults: true });
  let node: unknown = loadPackageDefinition(definition);
  for (const part of MCP_GRPC_SERVICE.split('.')) node = (node as Record<string, unknown>)[part];
  const Client = node as ServiceClientConstructor;
  cached = { service: Client.service, Client };
  return cached;
}
