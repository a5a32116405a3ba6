/**
 * Who is calling: the server's `authenticate` hook sees a stream's metadata and, under mutual TLS,
 * the client certificate the TLS layer verified (grpc-js `call.getAuthContext()`, 1.10+). Its
 * verdict becomes `ctx.authInfo`, or ends the stream with UNAUTHENTICATED / PERMISSION_DENIED
 * before any frame is read (`mcp.proto`, "status codes").
 * @module
 */
import type { PeerCertificate } from 'node:tls';
import { status } from '@grpc/grpc-js';
import type { AuthInfo, JsonObject } from '../../protocol/types.js';

/** A verified client certificate (mutual TLS), in JSON-friendly form. */
export interface GrpcPeerCertificate {
  /** Subject fields, e.g. `{ CN: 'client-one', O: 'anywire' }`. */
  subject: Record<string, string | string[]>;
  /** Issuer fields. */
  issuer: Record<string, string | string[]>;
  /** Subject alternative names as `TYPE:value`, e.g. `['URI:spiffe://example/client', 'DNS:client-one']`. */
  subjectAltNames: string[];
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
  serialNumber: string;
  /** Validity bounds as OpenSSL prints them. */
  validFrom: string;
  validTo: string;
}

/** What the `authenticate` hook learns about the caller besides metadata. */
export interface GrpcCaller {
  /** The RPC: `Session` (checked once per stream) or `Call` (once per request). */
  rpc: 'Session' | 'Call';
  /** The peer address as grpc-js reports it, e.g. `127.0.0.1:50312`. */
  peer: string;
  /** The client certificate, when the server asked for one (`tls.requestCert`) and TLS verified it. */
  certificate?: GrpcPeerCertificate;
}

/**
 * Derives the caller's identity from a stream's metadata (lower-cased keys, e.g. `authorization`).
 * Return `undefined` to let the caller in anonymously (or with its certificate identity, see
 * {@link certificateAuthInfo}); throw to refuse: the stream ends with UNAUTHENTICATED (16) and the
 * error's message, or with the gRPC status in the error's numeric `code` when it is 1-16 (e.g. 7,
 * PERMISSION_DENIED).
 */
export type GrpcAuthenticate = (
  metadata: Record<string, string | undefined>,
  caller: GrpcCaller,
) => AuthInfo | undefined | Promise<AuthInfo | undefined>;

/** Converts Node's peer certificate. */
export function toPeerCertificate(cert: PeerCertificate): GrpcPeerCertificate {
  const names = cert.subjectaltname ? cert.subjectaltname.split(/,\s*/).filter(Boolean) : [];
  return {
    subject: { ...(cert.subject as unknown as Record<string, string | string[]>) },
    issuer: { ...(cert.issuer as unknown as Record<string, string | string[]>) },
    subjectAltNames: names,
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
  };
}

/**
 * The identity a verified client certificate gives when the hook returns none: `subject` is the
 * certificate's CN (else its first SAN value), `clientId` its first `URI:` SAN (a SPIFFE id, say),
 * `extra.certificate` the whole {@link GrpcPeerCertificate}.
 */
export function certificateAuthInfo(cert: GrpcPeerCertificate): AuthInfo {
  const cn = cert.subject.CN;
  const firstSan = cert.subjectAltNames[0]?.replace(/^[A-Za-z ]+:/, '');
  const uri = cert.subjectAltNames.find((n) => n.startsWith('URI:'))?.slice(4);
  const info: AuthInfo = { extra: { certificate: cert as unknown as JsonObject } };
  const subject = Array.isArray(cn) ? cn[0] : (cn ?? firstSan);
  if (subject !== undefined) info.subject = subject;
  if (uri !== undefined) info.clientId = uri;
  return info;
}

/** What the hook needs of a grpc-js server call (`getAuthContext` exists since grpc-js 1.10). */
interface CallerSource {
  getPeer(): string;
  getAuthContext?(): { sslPeerCertificate?: PeerCertificate } | null;
}

/** The verdict on one call. */
export type AuthVerdict = { ok: true; authInfo?: AuthInfo } | { ok: false; code: status; details: string };

/** Runs the hook (if any) for `call`; never throws. */
export async function authenticateCall(
  call: CallerSource,
  rpc: GrpcCaller['rpc'],
  headers: Record<string, string | undefined>,
  authenticate: GrpcAuthenticate | undefined,
): Promise<AuthVerdict> {
  const peerCert = call.getAuthContext?.()?.sslPeerCertificate;
  const certificate = peerCert ? toPeerCertificate(peerCert) : undefined;
  let authInfo: AuthInfo | undefined;
  if (authenticate) {
    const caller: GrpcCaller = certificate
      ? { rpc, peer: call.getPeer(), certificate }
      : { rpc, peer: call.getPeer() };
    try {
      authInfo = await authenticate(headers, caller);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        code:
          Number.isInteger(code) && (code as number) >= 1 && (code as number) <= 16
            ? (code as status)
            : status.UNAUTHENTICATED,
        details: error instanceof Error ? error.message : String(error),
      };
    }
  }
  if (authInfo === undefined && certificate) authInfo = certificateAuthInfo(certificate);
  return authInfo === undefined ? { ok: true } : { ok: true, authInfo };
}
