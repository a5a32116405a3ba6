/**
 * Random identifiers from the platform CSPRNG (`crypto.getRandomValues`, in every runtime).
 * @module
 */

/**
 * `bytes` random bytes as lowercase hex (`2 * bytes` characters): event-store tokens, broadcast and
 * bus ids, replica tags.
 * @throws RangeError when `bytes` is not an integer from 1 to 65 536
 */
export function randomHex(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 65_536)
    throw new RangeError(`randomHex: bytes must be an integer from 1 to 65536 (got ${bytes})`);
  const raw = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(raw);
  let s = '';
  for (const b of raw) s += b.toString(16).padStart(2, '0');
  return s;
}
