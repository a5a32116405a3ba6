import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { StdioClientTransport } from '../../src/transports/stdio/client.js';
import { ROOT } from '../helpers.js';
import type { MatrixBinding } from './types.js';

const args = (module: string) => [
  `${ROOT}bin/anywire.js`,
  'serve',
  module,
  '--stdio',
  '--max-message-bytes',
  '65536',
];

/** stdio: the server module (the matrix server unless told) runs as a child process per client. */
export const binding: MatrixBinding = {
  name: 'stdio',
  eras: ['legacy', 'modern'],
  serverPerClient: true,
  async start(_server, options = {}) {
    const ARGS = args(options.module ?? `${ROOT}test/fixtures/matrix-server.ts`);
    const env = options.env;
    return {
      connect: () =>
        new StdioClientTransport({
          command: process.execPath,
          args: ARGS,
          stderr: 'ignore',
          ...(env ? { env } : {}),
        }),
      stop: async () => {},
      maxMessageBytes: 65536,
      raw: (frame) =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ARGS, { stdio: ['pipe', 'pipe', 'ignore'] });
          createInterface({ input: child.stdout }).once('line', (line) => {
            child.kill();
            resolve(JSON.parse(line));
          });
          child.once('error', reject);
          child.stdin.write(`${frame}\n`);
        }),
    };
  },
};
