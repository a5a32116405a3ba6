import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { TcpClientTransport } from '../../src/transports/stream/client.js';
import { serveTcp } from '../../src/transports/stream/server.js';
import { connected, rawFirstAnswer } from '../fixtures/stream-raw.js';
import type { MatrixBinding } from './types.js';

const MAX = 65536;

/** tcp: newline-delimited JSON over a loopback TCP socket (src/transports/stream). */
export const binding: MatrixBinding & { maxMessageBytes: number } = {
  name: 'tcp',
  eras: ['legacy', 'modern'],
  maxMessageBytes: MAX,
  identities: true,
  async start(server, options = {}) {
    const handle = await serveTcp(server, {
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: MAX,
      authenticator: options.authenticator,
    });
    const { port } = handle.address as AddressInfo;
    return {
      connect: (authorization) => new TcpClientTransport({ host: '127.0.0.1', port, authorization }),
      stop: () => handle.close(),
      maxMessageBytes: MAX,
      raw: (frame) => rawFirstAnswer(() => connected(connect({ host: '127.0.0.1', port })), frame),
    };
  },
};
