import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnixClientTransport } from '../../src/transports/stream/client.js';
import { serveUnix } from '../../src/transports/stream/server.js';
import { connected, rawFirstAnswer } from '../fixtures/stream-raw.js';
import type { MatrixBinding } from './types.js';

const MAX = 65536;

/** unix: newline-delimited JSON over a Unix domain socket in a temp dir (src/transports/stream). */
export const binding: MatrixBinding & { maxMessageBytes: number } = {
  name: 'unix',
  eras: ['legacy', 'modern'],
  maxMessageBytes: MAX,
  async unavailable() {
    return process.platform === 'win32' ? 'Unix domain socket paths are not used on Windows' : undefined;
  },
  identities: true,
  async start(server, options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'anywire-unix-'));
    const path = join(dir, 'mcp.sock');
    const handle = await serveUnix(server, {
      path,
      mode: 0o600,
      maxMessageBytes: MAX,
      authenticator: options.authenticator,
    });
    return {
      connect: (authorization) => new UnixClientTransport({ path, authorization }),
      stop: async () => {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
      maxMessageBytes: MAX,
      raw: (frame) => rawFirstAnswer(() => connected(connect({ path })), frame),
    };
  },
};
