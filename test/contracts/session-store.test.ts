/**
 * The SessionStore contract on the in-memory store, plus its option check.
 */
import { describe, expect, it } from 'vitest';
import { InMemorySessionStore } from '../../src/protocol/session-store.js';
import { sessionStoreContract } from './session-store.contract.js';

sessionStoreContract('InMemorySessionStore', async (options) => {
  const store = new InMemorySessionStore(options);
  return {
    store,
    garbage: [
      async (id) => store.putRaw(id, 'not json', 60_000),
      async (id) => store.putRaw(id, JSON.stringify({ sessionId: id, protocolVersion: 7 }), 60_000),
      async (id) => store.putRaw(id, JSON.stringify([1, 2, 3]), 60_000),
    ],
  };
});

describe('InMemorySessionStore options', () => {
  it('refuses a maxSessionRecordBytes that is not an integer >= 1', () => {
    expect(() => new InMemorySessionStore({ maxSessionRecordBytes: 0 })).toThrow(
      /maxSessionRecordBytes must be an integer >= 1/,
    );
  });
});
