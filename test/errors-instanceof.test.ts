/**
 * `instanceof` of the branded error classes: a plain error is an instance of its class (also across
 * duplicate installs, by brand), but not of a user's subclass.
 */
import { expect, it } from 'vitest';
import { JsonRpcError } from '../src/jsonrpc/errors.js';
import { McpError } from '../src/protocol/errors.js';

it('JsonRpcError: a subclass checks the subclass', () => {
  class ToolFailure extends JsonRpcError {}
  class Other extends JsonRpcError {}
  const plain = new JsonRpcError(-32000, 'plain');
  const sub = new ToolFailure(-32001, 'sub');
  expect(plain instanceof JsonRpcError).toBe(true);
  expect(sub instanceof JsonRpcError).toBe(true);
  expect(sub instanceof ToolFailure).toBe(true);
  expect(plain instanceof ToolFailure).toBe(false);
  expect(sub instanceof Other).toBe(false);
  expect(new Error('x') instanceof JsonRpcError).toBe(false);
  // A JsonRpcError made by another copy of the package carries the same brand.
  const foreign = Object.assign(new Error('foreign'), { [Symbol.for('anywire.error.JsonRpcError')]: true });
  expect(foreign instanceof JsonRpcError).toBe(true);
  expect(foreign instanceof ToolFailure).toBe(false);
});

it('McpError: a subclass checks the subclass', () => {
  class Mine extends McpError {}
  expect(new McpError('REQUEST_TIMEOUT', 't') instanceof McpError).toBe(true);
  expect(new McpError('REQUEST_TIMEOUT', 't') instanceof Mine).toBe(false);
  expect(new Mine('REQUEST_TIMEOUT', 't') instanceof Mine).toBe(true);
});
