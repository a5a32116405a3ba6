import { credentials, Metadata } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { GrpcClientTransport, loadMcpProto, serveGrpc } from '../../src/transports/grpc/index.js';
import type { Frame } from '../../src/transports/grpc/index.js';
import type { MatrixBinding } from './types.js';

const MAX_MESSAGE_BYTES = 65536;

/** gRPC: one `Session` stream per client, both eras, on 127.0.0.1. */
export const binding: MatrixBinding & { maxMessageBytes: number } = {
  name: 'grpc',
  eras: ['legacy', 'modern'],
  maxMessageBytes: MAX_MESSAGE_BYTES,
  identities: true,
  async start(server, options = {}) {
    const handle = await serveGrpc(server, {
      port: 0,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      authenticator: options.authenticator,
    });
    return {
      connect: (authorization) =>
        new GrpcClientTransport({
          url: handle.url,
          ...(authorization ? { metadata: { authorization } } : {}),
        }),
      stop: () => handle.close(100),
      maxMessageBytes: MAX_MESSAGE_BYTES,
      // A raw grpc-js client on the shipped .proto: one frame in, the first frame out.
      raw: (json) =>
        new Promise((resolve, reject) => {
          const { Client } = loadMcpProto();
          const client = new Client(`127.0.0.1:${handle.address.port}`, credentials.createInsecure());
          const stream = (client as any).Session(new Metadata()) as ClientDuplexStream<Frame, Frame>;
          stream.once('data', (frame: Frame) => {
            stream.cancel();
            client.close();
            resolve(JSON.parse(frame.json));
          });
          stream.on('error', (e: Error) => {
            if (!(e as { code?: number }).code || (e as { code?: number }).code !== 1) reject(e);
          });
          stream.write({ json });
        }),
    };
  },
};
