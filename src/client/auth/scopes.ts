/**
 * Challenges and scopes (2025-11-25 basic/authorization "Scope Selection Strategy" and "Step-Up
 * Authorization Flow"): the `WWW-Authenticate` challenge of a 401/403 (parsed by oauth4webapi), the
 * scope to request — the challenge's, else the resource's `scopes_supported`, else none — the union
 * with what was asked before on step-up (SEP-2350), and `offline_access` only where the
 * authorization server lists it (SEP-2207).
 * @module
 */
import * as oauth from 'oauth4webapi';

/** The parts of a `WWW-Authenticate` challenge the client acts on. */
export interface Challenge {
  /** `bearer` or `dpop` (lowercase). */
  scheme: string;
  /** `invalid_token`, `insufficient_scope`, `use_dpop_nonce`, ... */
  error?: string;
  /** The scope the server asks for. */
  scope?: string;
  /** The URL of the protected resource metadata (RFC 9728 §5.1). */
  resourceMetadata?: string;
}

/** The challenges of `error`, when it is oauth4webapi's WWWAuthenticateChallengeError. */
export function challengesOfError(error: unknown): Challenge | undefined {
  if (!(error instanceof oauth.WWWAuthenticateChallengeError)) return undefined;
  return pick(error.cause);
}

/** Prefers a DPoP or Bearer challenge; reads its parameters. */
function pick(challenges: oauth.WWWAuthenticateChallenge[]): Challenge | undefined {
  const chosen =
    challenges.find((c) => c.scheme === 'dpop' && c.parameters.error) ??
    challenges.find((c) => c.scheme === 'bearer') ??
    challenges.find((c) => c.scheme === 'dpop') ??
    challenges[0];
  if (!chosen) return undefined;
  const p = chosen.parameters;
  const challenge: Challenge = { scheme: chosen.scheme };
  if (typeof p.error === 'string') challenge.error = p.error;
  if (typeof p.scope === 'string') challenge.scope = p.scope;
  if (typeof p.resource_metadata === 'string') challenge.resourceMetadata = p.resource_metadata;
  return challenge;
}

/**
 * The challenge of a 401/403 `response`, if it has one. The header is parsed by oauth4webapi (its
 * protected resource request helper is handed the response already received; nothing is sent).
 */
export async function challengeOf(response: Response): Promise<Challenge | undefined> {
  if (!response.headers.has('www-authenticate')) return undefined;
  try {
    await oauth.protectedResourceRequest('-', 'GET', new URL('http://localhost/'), undefined, null, {
      [oauth.customFetch]: () => Promise.resolve(response),
      [oauth.allowInsecureRequests]: true,
    });
  } catch (error) {
    return challengesOfError(error);
  }
  return undefined;
}

/** The scope tokens of a space-separated scope string. */
export function scopeSet(scope: string | undefined): Set<string> {
  return new Set((scope ?? '').split(' ').filter((s) => s.length > 0));
}

/** True when every scope of `wanted` is in `held`. */
export function scopeCovered(wanted: string | undefined, held: string | undefined): boolean {
  const have = scopeSet(held);
  return [...scopeSet(wanted)].every((s) => have.has(s));
}

/** What scope selection looks at. */
export interface ScopeInputs {
  /** A scope forced by the caller. */
  override?: string | undefined;
  /** The challenge's scope. */
  challenged?: string | undefined;
  /** The protected resource's `scopes_supported`. */
  resourceScopes?: string[] | undefined;
  /** What was requested before (step-up keeps it: SEP-2350). */
  previous?: string | undefined;
  /** The authorization server's `scopes_supported`. */
  serverScopes?: string[] | undefined;
  /** Whether to ask for `offline_access` where the server lists it. */
  offlineAccess: boolean;
}

/** The scope to request, or `undefined` to omit the parameter. */
export function selectScope(inputs: ScopeInputs): string | undefined {
  const base = inputs.override ?? inputs.challenged ?? inputs.resourceScopes?.join(' ');
  const set = scopeSet(inputs.previous);
  for (const s of scopeSet(base)) set.add(s);
  const offlineListed = inputs.serverScopes?.includes('offline_access') === true;
  if (!offlineListed) set.delete('offline_access');
  else if (inputs.offlineAccess && inputs.override === undefined) set.add('offline_access');
  return set.size > 0 ? [...set].join(' ') : undefined;
}
