/**
 * The gRPC adapter of the shared ingress: who is calling is decided by the server's
 * `Authenticator`, once per `Session` stream and once per `Call`, from the stream's metadata and,
 * under mutual TLS, the client certificate the TLS layer verified (grpc-js
 * `call.getAuthContext()`, 1.10+). A refusal ends the stream before any frame is read, with
 * UNAUTHENTICATED (16) for 401 or PERMISSION_DENIED (7) for 403, the challenge in the trailing
 * metadata `www-authenticate` (`mcp.proto`, "status codes").
 * @module
 */
import type { PeerCertificate } from 'node:tls';
import type { StatusObject } from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import type { Authenticator, AuthError, AuthRequest } from '../../protocol/auth.js';
import { certificateIdentity } from '../shared/certificate.js';
import type { Admission } from '../shared/ingress.js';
import { admit } from '../shared/ingress.js';

/** What the ingress needs of a grpc-js server call (`getAuthContext` exists since grpc-js 1.10). */
interface CallerSource {
  getPeer(): string;
  getAuthContext?(): { sslPeerCertificate?: PeerCertificate } | null;
}

/**
 * Runs the ingress for `call`: the `AuthRequest` has binding `grpc`, the metadata as `headers`
 * (`authorization`, ...), `httpMethod` `POST`, the verified client `certificate` and
 * `peer.address`. Never throws.
 */
export function admitCall(
  call: CallerSource,
  headers: Record<string, string | undefined>,
  authenticator: Authenticator | undefined,
  onerror?: (error: Error) => void,
): Promise<Admission> {
  const peerCert = call.getAuthContext?.()?.sslPeerCertificate;
  const request: AuthRequest = { binding: 'grpc', headers, httpMethod: 'POST' };
  if (peerCert && Object.keys(peerCert).length > 0) request.certificate = certificateIdentity(peerCert);
  const peer = call.getPeer();
  if (peer) request.peer = { address: peer };
  return admit(authenticator, request, onerror ? { onerror } : {});
}

/**
 * A refusal as the status a stream ends with: UNAUTHENTICATED (16) for 401, PERMISSION_DENIED (7)
 * for 403; details `Unauthorized: ...`/`Forbidden: ...`; trailing metadata `www-authenticate` (the
 * challenge) and the error's extra `headers` (lower-cased, e.g. `dpop-nonce`).
 */
export function refusalStatus(error: AuthError): Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set('www-authenticate', error.wwwAuthenticate);
  for (const [k, v] of Object.entries(error.headers)) metadata.set(k.toLowerCase(), v);
  const prefix = error.status === 403 ? 'Forbidden' : 'Unauthorized';
  return {
    code: error.status === 403 ? status.PERMISSION_DENIED : status.UNAUTHENTICATED,
    details: error.message.startsWith(prefix) ? error.message : `${prefix}: ${error.message}`,
    metadata,
  };
}
