/**
 * Multi round-trip requests (2026-07-28 basic/patterns/mrtr): a modern `tools/call`, `prompts/get`
 * or `resources/read` whose handler asks the client for input answers `input_required` with a sealed
 * `requestState`; the retry carries the answers (`inputResponses`) and the state back. The handler
 * parked at a missing input is abandoned and its `ctx.signal` aborted.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcRequest } from '../jsonrpc/types.js';
import { principalOf } from '../protocol/auth.js';
import { canonicalJson } from '../protocol/canonical-json.js';
import { digest, openState, sealState } from '../protocol/request-state.js';
import type { JsonObject } from '../protocol/types.js';
import type { HandlerContext, RequestInfo, RequestScope } from './context.js';
import { createHandlerContext, InputCollector } from './context.js';
import type { ServerCore } from './core.js';
import { invalidParams, isObject } from './methods/wire.js';
import { DEFAULT_MAX_INPUT_ROUNDS, DEFAULT_REQUEST_STATE_TTL_MS } from './options.js';

/** The reason a parked handler's signal carries when its request ends for input. */
export const INPUT_REQUIRED_ABORT_REASON = 'input required: the request ended with input_required';

/** Copies the own enumerable keys of `from` into the null-prototype map `into`. */
function mergeOwn(into: Record<string, unknown>, from: object): void {
  for (const [k, v] of Object.entries(from)) into[k] = v;
}

/**
 * Runs an MRTR-capable method; resolves to `input_required` when the handler asked for input.
 * @param run the method, given the handler context to use
 * @throws JsonRpcError -32602 for a bad `requestState` or `inputResponses`; -32603 after too many rounds
 */
export async function runWithInputs(
  core: ServerCore,
  request: JsonRpcRequest,
  params: JsonObject,
  scope: RequestScope,
  info: RequestInfo,
  run: (ctx: HandlerContext) => Promise<JsonObject>,
): Promise<JsonObject> {
  const opts = core.options.requestState ?? {};
  const principal = principalOf(scope.context.authInfo);
  const requestDigest = () =>
    digest(
      canonicalJson([
        request.method,
        request.method === 'resources/read' ? params.uri : params.name,
        params.arguments ?? null,
      ]),
    );
  const responses = Object.create(null) as Record<string, unknown>;
  let round = 0;
  let dig: string | undefined;
  const state = params.requestState;
  if (state !== undefined) {
    if (typeof state !== 'string') throw invalidParams('Invalid params: requestState must be a string');
    dig = await requestDigest();
    const opened = await openState(core.keyRing, state, { sub: principal, dig });
    if (!opened.ok) throw invalidParams(`Invalid params: requestState rejected (${opened.why})`);
    const earlier = opened.payload.data.responses;
    if (isObject(earlier)) mergeOwn(responses, earlier);
    round = Number(opened.payload.data.round) || 0;
  }
  const fresh = params.inputResponses;
  if (fresh !== undefined) {
    if (!isObject(fresh)) throw invalidParams('Invalid params: inputResponses must be an object');
    mergeOwn(responses, fresh);
  }
  const inputs = new InputCollector(responses);
  const work = run(createHandlerContext(scope, info, inputs));
  const done = await new Promise<JsonObject | undefined>((resolve, reject) => {
    work.then(resolve, reject);
    inputs.onneeded = () => resolve(undefined);
  });
  if (done) return done;
  work.catch(() => {}); // the abandoned run never settles; keep stray rejections quiet
  inputs.abandon(new Error(INPUT_REQUIRED_ABORT_REASON));
  if (round + 1 > (opts.maxRounds ?? DEFAULT_MAX_INPUT_ROUNDS)) {
    throw new JsonRpcError(ErrorCode.InternalError, 'Internal error: too many input rounds for one request');
  }
  const requestState = await sealState(core.keyRing, {
    exp: Date.now() + (opts.ttlMs ?? DEFAULT_REQUEST_STATE_TTL_MS),
    sub: principal,
    dig: dig ?? (await requestDigest()),
    data: { responses: { ...responses }, round: round + 1 },
  });
  return { resultType: 'input_required', inputRequests: { ...inputs.pending }, requestState };
}
