/**
 * Construction-time validation of numeric options: every limit is checked when the server or
 * transport is built, so `keepAliveIntervalMs: 0.5` or `maxConnections: -1` fails loudly at once
 * instead of misbehaving under load.
 * @module
 */

/** The accepted range of a numeric option (inclusive bounds). */
export interface NumericRange {
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value. Default `Number.MAX_SAFE_INTEGER`. */
  max?: number;
  /** Whether fractions are accepted. Default false (integers only). */
  fraction?: boolean;
}

/**
 * Checks `value` (when given) against `range`.
 * @throws RangeError naming `option` and its range, e.g.
 *   `anywire: maxConnections must be an integer from 1 to 9007199254740991 (got 0)`
 */
export function checkNumber(option: string, value: number | undefined, range: NumericRange): void {
  if (value === undefined) return;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (range.fraction || Number.isInteger(value)) &&
    value >= range.min &&
    value <= max;
  if (!ok) {
    throw new RangeError(
      `anywire: ${option} must be ${range.fraction ? 'a number' : 'an integer'} from ${range.min} to ${max} (got ${String(value)})`,
    );
  }
}

/** Checks several options of one object: `{ name: [value, range] }`. @throws RangeError as {@link checkNumber} */
export function checkNumbers(options: Record<string, [number | undefined, NumericRange]>): void {
  for (const [name, [value, range]] of Object.entries(options)) checkNumber(name, value, range);
}
