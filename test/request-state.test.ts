/**
 * requestState sealing (src/protocol/request-state.ts): a sealed state opens to its payload, and
 * every single-character change to it (including the non-canonical base64url spellings of the same
 * MAC bytes) is refused.
 */
import { describe, expect, it } from 'vitest';
import { openState, sealState } from '../src/protocol/request-state.js';
import { StaticKeyRing } from '../src/protocol/stores.js';

const ring = new StaticKeyRing([{ id: 'k1', secret: 'a secret of at least thirty-two bytes!!' }]);
const expectFor = { sub: 'alice', dig: 'digest-1' };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=.+/ ';

describe('requestState', () => {
  it('opens what it sealed', async () => {
    const payload = { exp: Date.now() + 60_000, sub: 'alice', dig: 'digest-1', data: { n: 1, s: 'é' } };
    const sealed = await sealState(ring, payload);
    expect(await openState(ring, sealed, expectFor)).toEqual({ ok: true, payload });
  });

  it('refuses every single-character change of a sealed state', async () => {
    // Several payload lengths, so the MAC and body end on every base64url remainder.
    for (const pad of ['', 'x', 'xy']) {
      const sealed = await sealState(ring, {
        exp: Date.now() + 60_000,
        sub: 'alice',
        dig: 'digest-1',
        data: { pad },
      });
      const accepted: string[] = [];
      for (let i = 0; i < sealed.length; i++) {
        for (const c of ALPHABET) {
          if (c === sealed[i]) continue;
          const changed = sealed.slice(0, i) + c + sealed.slice(i + 1);
          const r = await openState(ring, changed, expectFor);
          if (r.ok) accepted.push(`position ${i}: ${sealed[i]} -> ${c}`);
        }
      }
      expect(accepted).toEqual([]);
    }
  });

  it('refuses a MAC with padding or cut short, and never throws on garbage', async () => {
    const sealed = await sealState(ring, {
      exp: Date.now() + 60_000,
      sub: 'alice',
      dig: 'digest-1',
      data: {},
    });
    for (const bad of [
      `${sealed}=`,
      sealed.slice(0, -1),
      `${sealed}A`,
      '',
      '....',
      'v1.k1..',
      'v1.k1.e30.',
      'v1.k1.!!!!.AAAA',
    ]) {
      expect((await openState(ring, bad, expectFor)).ok).toBe(false);
    }
  });
});
