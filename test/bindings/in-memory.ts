import { InMemoryTransport } from '../../src/transports/in-memory/index.js';
import type { MatrixBinding } from './types.js';

/** The in-memory pair (protocol reference cell). */
export const binding: MatrixBinding = {
  name: 'in-memory',
  eras: ['legacy', 'modern'],
  async start(server) {
    return {
      async connect() {
        const [a, b] = InMemoryTransport.createLinkedPair();
        await server.connect(b);
        return a;
      },
      stop: async () => {},
    };
  },
};
