/**
 * The one mapping from a verified client certificate (mutual TLS) to the identity every binding
 * reports: {@link certificateIdentity} turns Node's `PeerCertificate` into a
 * {@link CertificateIdentity} (subject, issuer, SANs, SPIFFE ID, SHA-256 fingerprint, RFC 8705
 * `x5t#S256`), and {@link certificateAuthInfo} into the `AuthInfo` a connection carries when no
 * `Authenticator` decides otherwise. TLS, gRPC-over-TLS and WSS use these functions, so one
 * certificate gives the same `subject` and `clientId` on each.
 * @module
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { CertificateIdentity } from '../../protocol/auth.js';
import type { AuthInfo } from '../../protocol/types.js';
import { identityAuthInfo } from './ingress.js';

/** One subject alternative name: `type` as OpenSSL prints it (`DNS`, `URI`, `IP Address`, `email`, ...). */
export interface SubjectAltName {
  type: string;
  value: string;
}

/**
 * Splits OpenSSL's `subjectaltname` text (`DNS:a.example, URI:spiffe://td/x, IP Address:127.0.0.1`)
 * into entries. Values Node quoted as JSON strings (those containing `,` or `"`) are unquoted.
 */
export function parseSubjectAltNames(text: string | undefined): SubjectAltName[] {
  const out: SubjectAltName[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      // A JSON string: find its closing quote, skipping escapes.
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      } catch {
        value = text.slice(colon + 2, j);
      }
      next = text.indexOf(',', j + 1);
    } else {
      next = text.indexOf(', ', colon + 1);
      value = text.slice(colon + 1, next < 0 ? undefined : next);
    }
    out.push({ type, value });
    if (next < 0) break;
    i = next + 1;
    while (text[i] === ' ') i++;
  }
  return out;
}

function fields(record: object | undefined): Record<string, string | string[]> {
  // Node builds these with a null prototype; copy own entries into a plain object.
  const out: Record<string, string | string[]> = {};
  if (record) for (const [k, v] of Object.entries(record)) out[k] = v as string | string[];
  return out;
}

function iso(date: string | undefined): string {
  const ms = date ? Date.parse(date) : NaN;
  return Number.isNaN(ms) ? (date ?? '') : new Date(ms).toISOString();
}

/**
 * RFC 8705 section 3.1 `x5t#S256`: base64url (no padding) of the SHA-256 of the DER certificate.
 * A token whose `cnf["x5t#S256"]` equals this value is bound to the certificate.
 */
export function x5tS256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * A verified peer certificate as a {@link CertificateIdentity}. Call it only for a certificate the
 * TLS layer verified (`socket.authorized`). `x5tS256` is present when Node gives the DER (`raw`).
 */
export function certificateIdentity(cert: PeerCertificate): CertificateIdentity {
  const sans = parseSubjectAltNames(cert.subjectaltname);
  const spiffeId = sans.find((s) => s.type === 'URI' && s.value.startsWith('spiffe://'))?.value;
  const identity: CertificateIdentity = {
    subject: fields(cert.subject),
    issuer: fields(cert.issuer),
    subjectAltNames: sans,
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validFrom: iso(cert.valid_from),
    validTo: iso(cert.valid_to),
  };
  if (spiffeId) identity.spiffeId = spiffeId;
  if (cert.raw) identity.x5tS256 = x5tS256(cert.raw);
  return identity;
}

/**
 * The `AuthInfo` a verified client certificate gives on every binding (see `identityAuthInfo` in
 * `ingress.ts`): `clientId` = the SPIFFE ID, else the subject CN, else the first SAN value;
 * `subject` = the CN, else the SPIFFE ID, else the first SAN value; `expiresAt` = the
 * certificate's `notAfter` in seconds since the epoch; `extra.certificate` = the whole
 * {@link CertificateIdentity}. Accepts Node's `PeerCertificate` or an identity already mapped.
 */
export function certificateAuthInfo(cert: PeerCertificate | CertificateIdentity): AuthInfo {
  return identityAuthInfo(
    Array.isArray((cert as CertificateIdentity).subjectAltNames)
      ? (cert as CertificateIdentity)
      : certificateIdentity(cert as PeerCertificate),
  );
}

/**
 * The verified client certificate of a TLS socket, or `undefined` when the socket is not TLS, the
 * peer sent none, or it did not verify (`authorized` false).
 */
export function verifiedCertificate(socket: unknown): CertificateIdentity | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (!tls || tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  return cert && Object.keys(cert).length > 0 ? certificateIdentity(cert) : undefined;
}
