/**
 * Who the client is at one authorization server (2025-11-25 basic/authorization "Client
 * Registration Approaches"): a pre-registered client id, else a Client ID Metadata Document URL
 * where the server supports CIMD, else dynamic registration (RFC 7591) — kept per issuer, never
 * reused at another server. And how it authenticates at the token endpoint (none,
 * client_secret_basic, client_secret_post, private_key_jwt).
 * @module
 */
import { importPKCS8 } from 'jose';
import * as oauth from 'oauth4webapi';
import type { DiscoveryContext } from './discovery.js';
import { requestOptions } from './discovery.js';
import { clientKey } from './token-store.js';
import type { OAuthClientProviderOptions, StoredClient, TokenStore } from './types.js';

/** A client ready for token requests: its metadata and its authentication. */
export interface ClientIdentity {
  /** The oauth4webapi client (`client_id`, ...). */
  client: oauth.Client;
  /** How it authenticates at the token endpoint. */
  auth: oauth.ClientAuth;
  /** The method name, for diagnostics. */
  method: string;
}

/** Thrown when the client cannot identify itself to an authorization server. */
export class OAuthRegistrationError extends Error {
  override name = 'OAuthRegistrationError';
}

/** The private_key_jwt key from a CryptoKey or a PKCS#8 PEM (jose). */
async function privateKeyOf(options: OAuthClientProviderOptions): Promise<CryptoKey> {
  const key = options.privateKey!;
  if (typeof key !== 'string') return key;
  return (await importPKCS8(key, options.privateKeyAlgorithm ?? 'ES256')) as CryptoKey;
}

/** Picks the token endpoint authentication method (RFC 8414 default: client_secret_basic). */
function chooseMethod(
  as: oauth.AuthorizationServer,
  options: OAuthClientProviderOptions,
  assigned: string | undefined,
  secret: string | undefined,
): string {
  if (options.tokenEndpointAuthMethod) return options.tokenEndpointAuthMethod;
  if (assigned) return assigned;
  const supported = as.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  if (options.privateKey && supported.includes('private_key_jwt')) return 'private_key_jwt';
  if (secret) {
    if (supported.includes('client_secret_basic')) return 'client_secret_basic';
    if (supported.includes('client_secret_post')) return 'client_secret_post';
  }
  if (options.privateKey) return 'private_key_jwt';
  return 'none';
}

/**
 * client_secret_basic (RFC 6749 §2.3.1) with `encodeURIComponent` for the id and secret: the same
 * as form encoding for every character but `-_.!~*'()`, which stay as they are, so servers that do
 * not form-decode the credentials (many, the conformance suite's among them) still read them.
 */
function clientSecretBasic(secret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    headers.set(
      'authorization',
      `Basic ${btoa(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`)}`,
    );
  };
}

/** The oauth4webapi authentication for `method`. */
async function authFor(
  method: string,
  secret: string | undefined,
  options: OAuthClientProviderOptions,
): Promise<oauth.ClientAuth> {
  switch (method) {
    case 'client_secret_basic':
      return clientSecretBasic(secret ?? '');
    case 'client_secret_post':
      return oauth.ClientSecretPost(secret ?? '');
    case 'private_key_jwt':
      if (!options.privateKey)
        throw new OAuthRegistrationError('private_key_jwt needs the privateKey option');
      return oauth.PrivateKeyJwt(await privateKeyOf(options));
    default:
      return oauth.None();
  }
}

/**
 * Many servers leave out `client_secret_expires_at`, which RFC 7591 §3.2.1 requires next to a
 * secret; such an answer is read as "never expires" (0) before oauth4webapi validates the rest.
 */
async function lenientRegistration(response: Response): Promise<Response> {
  if (response.status !== 201 && response.status !== 200) return response;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return response;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return response;
  const fields = body as Record<string, unknown>;
  if (fields.client_secret === undefined || fields.client_secret_expires_at !== undefined) return response;
  return new Response(JSON.stringify({ ...fields, client_secret_expires_at: 0 }), {
    status: response.status,
    headers: response.headers,
  });
}

/** The grant types this client registers for. */
function grantTypes(options: OAuthClientProviderOptions): string[] {
  const grant = options.grant ?? 'authorization_code';
  if (grant === 'client_credentials') return ['client_credentials'];
  if (grant === 'jwt_bearer') return ['urn:ietf:params:oauth:grant-type:jwt-bearer'];
  return ['authorization_code', 'refresh_token'];
}

/**
 * The client identity to use at `as`: pre-registered, CIMD, a registration stored for this
 * issuer, or a new dynamic registration (stored under `client <issuer>`).
 * @throws OAuthRegistrationError when none of them is possible
 */
export async function resolveClient(
  ctx: DiscoveryContext,
  as: oauth.AuthorizationServer,
  options: OAuthClientProviderOptions,
  store: TokenStore,
): Promise<ClientIdentity> {
  if (options.clientId !== undefined) {
    const method = chooseMethod(as, options, undefined, options.clientSecret);
    return {
      client: { client_id: options.clientId },
      auth: await authFor(method, options.clientSecret, options),
      method,
    };
  }
  if (options.clientMetadataUrl && as.client_id_metadata_document_supported === true) {
    return { client: { client_id: options.clientMetadataUrl }, auth: oauth.None(), method: 'none' };
  }
  const saved = (await store.get(clientKey(as.issuer))) as StoredClient | undefined;
  if (saved && saved.issuer === as.issuer && typeof saved.client_id === 'string') {
    const method = chooseMethod(as, options, saved.token_endpoint_auth_method, saved.client_secret);
    return {
      client: { client_id: saved.client_id },
      auth: await authFor(method, saved.client_secret, options),
      method,
    };
  }
  if (typeof as.registration_endpoint !== 'string')
    throw new OAuthRegistrationError(
      `${as.issuer} offers no dynamic client registration and supports no client metadata documents: pass a client id`,
    );
  const redirect = options.redirectUrl === undefined ? [] : [String(options.redirectUrl)];
  const metadata = {
    client_name: 'anywire',
    application_type: 'native' as const,
    ...options.clientMetadata,
    redirect_uris: redirect,
    grant_types: grantTypes(options),
    response_types: (options.grant ?? 'authorization_code') === 'authorization_code' ? ['code'] : [],
    token_endpoint_auth_method: 'none',
  };
  const endpoint = new URL(as.registration_endpoint);
  const response = await oauth.dynamicClientRegistrationRequest(as, metadata, requestOptions(ctx, endpoint));
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await lenientRegistration(response),
  );
  const secret = typeof registered.client_secret === 'string' ? registered.client_secret : undefined;
  const assigned =
    typeof registered.token_endpoint_auth_method === 'string'
      ? registered.token_endpoint_auth_method
      : undefined;
  const stored: StoredClient = { issuer: as.issuer, client_id: registered.client_id };
  if (secret !== undefined) stored.client_secret = secret;
  if (assigned !== undefined) stored.token_endpoint_auth_method = assigned;
  await store.set(clientKey(as.issuer), { ...stored });
  const method = chooseMethod(as, options, assigned, secret);
  return {
    client: { client_id: registered.client_id },
    auth: await authFor(method, secret, options),
    method,
  };
}
