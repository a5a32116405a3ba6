/**
 * Construction-time checks of numeric options: every limit is validated when the object is built,
 * and a bad value fails with a `RangeError` that names the option and its range.
 * @module
 */

/**
 * Checks an optional integer option; `undefined` passes (the default applies).
 * @param owner what is being built, e.g. `McpServer`
 * @param name the option's path, e.g. `pageSize` or `requestState.ttlMs`
 * @throws RangeError `<owner>: <name> must be an integer from <min> to <max> (got <value>)`
 */
export function checkIntegerOption(
  owner: string,
  name: string,
  value: unknown,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${owner}: ${name} must be an integer from ${min} to ${max} (got ${typeof value === 'number' ? value : JSON.stringify(value)})`,
    );
  }
}
