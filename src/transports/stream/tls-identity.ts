/**
 * Mutual TLS identity: turns a verified client certificate into the `AuthInfo` every message of the
 * connection carries (`MessageContext.authInfo`, a handler's `ctx.authInfo`). MCP's authorization
 * spec covers HTTP only; on a TLS byte stream the certificate is the credential, so its subject
 * and subject alternative names (DNS names, URIs such as SPIFFE IDs, e-mail, IP addresses) are what
 * a server authorizes on.
 * @module
 */
import type { PeerCertificate } from 'node:tls';
import type { AuthInfo, JsonObject } from '../../protocol/types.js';

/** One subject alternative name: `type` as OpenSSL prints it (`DNS`, `URI`, `IP Address`, `email`, ...). */
export interface SubjectAltName {
  type: string;
  value: string;
}

/** What `authInfo.extra.certificate` holds. */
export interface CertificateIdentity {
  /** Subject fields (`CN`, `O`, `OU`, ...). */
  subject: Record<string, string | string[]>;
  /** Issuer fields. */
  issuer: Record<string, string | string[]>;
  /** Subject alternative names in certificate order. */
  subjectAltNames: SubjectAltName[];
  /** The first `URI:spiffe://...` SAN, the workload's SPIFFE ID, if any. */
  spiffeId?: string;
  /** SHA-256 fingerprint, colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint256: string;
  serialNumber: string;
  /** Validity bounds, ISO 8601. */
  validFrom: string;
  validTo: string;
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
  // Node builds these with a null prototype; copy into plain objects.
  return { ...(record as Record<string, string | string[]> | undefined) };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function iso(date: string | undefined): string {
  const ms = date ? Date.parse(date) : NaN;
  return Number.isNaN(ms) ? (date ?? '') : new Date(ms).toISOString();
}

/**
 * The `AuthInfo` for a verified peer certificate:
 * `subject` = the subject CN, else the SPIFFE ID, else the first SAN value;
 * `clientId` = the CN, else the same fallback; `expiresAt` = the certificate's `notAfter` in
 * seconds since the epoch; `extra.certificate` = {@link CertificateIdentity}.
 * Call it only for a certificate the TLS layer verified (`socket.authorized`).
 */
export function certificateAuthInfo(cert: PeerCertificate): AuthInfo {
  const subject = fields(cert.subject);
  const sans = parseSubjectAltNames(cert.subjectaltname);
  const spiffeId = sans.find((s) => s.type === 'URI' && s.value.startsWith('spiffe://'))?.value;
  const cn = first(subject.CN) || undefined;
  const name = cn ?? spiffeId ?? sans[0]?.value;
  const identity: CertificateIdentity = {
    subject,
    issuer: fields(cert.issuer),
    subjectAltNames: sans,
    ...(spiffeId ? { spiffeId } : {}),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    validFrom: iso(cert.valid_from),
    validTo: iso(cert.valid_to),
  };
  const info: AuthInfo = { extra: { certificate: identity as unknown as JsonObject } };
  if (name !== undefined) {
    info.subject = name;
    info.clientId = name;
  }
  const expires = Date.parse(cert.valid_to);
  if (!Number.isNaN(expires)) info.expiresAt = Math.floor(expires / 1000);
  return info;
}
