/**
 * From verified claims (a JWT access token's payload, RFC 9068, or an RFC 7662 introspection
 * response) to the {@link AuthInfo} every binding hands to handlers as `ctx.authInfo`.
 * @module
 */
import type { AuthInfo, JsonObject } from '../protocol/types.js';

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Scopes from `scope` (space-separated, RFC 8693/9068) or `scp` (array or string, common in the wild). */
export function scopesOf(claims: Record<string, unknown>): string[] {
  const scope = own(claims, 'scope') ? claims.scope : own(claims, 'scp') ? claims.scp : undefined;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

/** The token's `cnf` members we enforce: RFC 9449 `jkt`, RFC 8705 `x5t#S256`. */
export function confirmationOf(claims: Record<string, unknown>): AuthInfo['confirmation'] {
  const cnf = own(claims, 'cnf') ? claims.cnf : undefined;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const c = cnf as Record<string, unknown>;
  const out: NonNullable<AuthInfo['confirmation']> = {};
  if (own(c, 'jkt') && typeof c.jkt === 'string') out.jkt = c.jkt;
  if (own(c, 'x5t#S256') && typeof c['x5t#S256'] === 'string') out['x5t#S256'] = c['x5t#S256'];
  return out.jkt !== undefined || out['x5t#S256'] !== undefined ? out : undefined;
}

/** Builds the principal. `client_id` (RFC 9068), else `azp` (OIDC-style providers). */
export function authInfoOf(token: string, resource: string, claims: Record<string, unknown>): AuthInfo {
  const info: AuthInfo = { token, resource, scopes: scopesOf(claims), claims: claims as JsonObject };
  if (typeof claims.sub === 'string') info.subject = claims.sub;
  const clientId = own(claims, 'client_id') ? claims.client_id : own(claims, 'azp') ? claims.azp : undefined;
  if (typeof clientId === 'string') info.clientId = clientId;
  if (typeof claims.exp === 'number') info.expiresAt = claims.exp;
  const confirmation = confirmationOf(claims);
  if (confirmation) info.confirmation = confirmation;
  return info;
}
