/**
 * The refusals of the resource server as {@link AuthError}s, each with its RFC 6750 / RFC 9449
 * challenge and the RFC 9728 `resource_metadata` URL (MCP authorization: "Protected Resource
 * Metadata Discovery Requirements", "Scope Challenge Handling").
 * @module
 */
import { AuthError } from '../protocol/auth.js';
import type { AuthChallenge } from '../protocol/auth.js';

/** Builds the resource server's challenges. */
export class Challenges {
  readonly #resourceMetadata: string;
  readonly #requiredScopes: string[];
  readonly #dpopAlgs?: string;
  readonly #dpopRequired: boolean;

  constructor(
    resourceMetadata: string,
    requiredScopes: string[],
    dpop?: { algorithms: string[]; required: boolean },
  ) {
    this.#resourceMetadata = resourceMetadata;
    this.#requiredScopes = requiredScopes;
    if (dpop) this.#dpopAlgs = dpop.algorithms.join(' ');
    this.#dpopRequired = dpop?.required === true;
  }

  #challenge(params: AuthChallenge, dpop = this.#dpopRequired): AuthChallenge {
    const challenge: AuthChallenge = { scheme: dpop ? 'DPoP' : 'Bearer' };
    if (params.error) challenge.error = params.error;
    if (params.error_description) challenge.error_description = params.error_description;
    challenge.resource_metadata = this.#resourceMetadata;
    if (params.scope) challenge.scope = params.scope;
    else if (this.#requiredScopes.length) challenge.scope = this.#requiredScopes.join(' ');
    if (dpop && this.#dpopAlgs) challenge.algs = this.#dpopAlgs;
    return challenge;
  }

  /** 401 without an error code: no credentials were presented (RFC 6750 section 3.1). */
  missing(): AuthError {
    return new AuthError(401, 'authorization required', this.#challenge({}));
  }

  /** 401 `invalid_request`: a malformed or oversized credential. */
  invalidRequest(description: string): AuthError {
    return new AuthError(
      401,
      description,
      this.#challenge({ error: 'invalid_request', error_description: description }),
    );
  }

  /** 401 `invalid_token`: expired, revoked, malformed, for another resource, bad signature, wrong binding. */
  invalidToken(description: string, dpop?: boolean): AuthError {
    return new AuthError(
      401,
      description,
      this.#challenge({ error: 'invalid_token', error_description: description }, dpop),
    );
  }

  /** 403 `insufficient_scope` with the scopes to ask for: the granted ones plus the missing ones. */
  insufficientScope(needed: string[], granted: readonly string[] = []): AuthError {
    const scope = [...new Set([...granted, ...needed])].join(' ');
    const description = `insufficient scope: needs ${needed.join(' ')}`;
    return new AuthError(
      403,
      description,
      this.#challenge({ error: 'insufficient_scope', error_description: description, scope }),
    );
  }

  /** 401 `invalid_dpop_proof` (RFC 9449 section 7.1), DPoP scheme. */
  invalidDpopProof(description: string): AuthError {
    return new AuthError(
      401,
      description,
      this.#challenge({ error: 'invalid_dpop_proof', error_description: description }, true),
    );
  }

  /** 401 `use_dpop_nonce` with the nonce to use in `DPoP-Nonce` (RFC 9449 section 9). */
  useDpopNonce(nonce: string): AuthError {
    const description = 'a DPoP proof with the server nonce is required';
    return new AuthError(
      401,
      description,
      this.#challenge({ error: 'use_dpop_nonce', error_description: description }, true),
      { 'dpop-nonce': nonce },
    );
  }
}
