/**
 * The two protocol eras as pure functions: which revisions a server speaks and how one inbound
 * request is classified (2026-07-28 basic/versioning: a request whose `params._meta` names
 * `io.modelcontextprotocol/protocolVersion` is modern and served statelessly; anything else belongs
 * to a legacy session opened with `initialize`). The dispatcher and the HTTP binding both read this;
 * no binding imports from `server/`.
 * @module
 */
import { LEGACY_PROTOCOL_VERSIONS, META, MODERN_PROTOCOL_VERSIONS } from './constants.js';

/** The protocol era a request was classified into. */
export type Era = 'legacy' | 'modern';

/** Which eras a server serves: `both` (default), `modern` only or `legacy` only. */
export type ErasOption = 'both' | 'modern' | 'legacy';

const VERSIONS_BY_ERAS: Record<ErasOption, readonly string[]> = {
  both: [...MODERN_PROTOCOL_VERSIONS, ...LEGACY_PROTOCOL_VERSIONS],
  modern: [...MODERN_PROTOCOL_VERSIONS],
  legacy: [...LEGACY_PROTOCOL_VERSIONS],
};

/** Versions a server speaks, newest first, honouring its `eras` option (a shared array: do not modify). */
export function supportedVersions(server: { options: { eras?: ErasOption } }): readonly string[] {
  return VERSIONS_BY_ERAS[server.options.eras ?? 'both'];
}

/**
 * The protocol version a request claims in `params._meta`, or `undefined` for a legacy request.
 * Returns the raw value (it may be of the wrong type; the dispatcher answers that with -32602).
 */
export function claimedVersion(params: unknown): unknown {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  return (meta as Record<string, unknown>)[META.protocolVersion];
}

/** Classifies one request by its own `_meta` (computed once per message). */
export function classify(params: unknown): Era {
  return claimedVersion(params) === undefined ? 'legacy' : 'modern';
}
