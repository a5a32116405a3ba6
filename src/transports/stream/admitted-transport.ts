/**
 * The ingress adapter of the byte-stream bindings (TCP, Unix, TLS): a connection is admitted once,
 * on its first message. The {@link Authenticator} sees the verified client certificate (mutual
 * TLS) and the first message's `params._meta` (a token travels as
 * `_meta.authorization: "Bearer <token>"`, the value an HTTP `Authorization` header would carry;
 * it also reaches the authenticator as `headers.authorization`). Messages that arrive while it
 * decides wait, in order (the socket is not read meanwhile).
 *
 * A refusal answers every request received so far with a JSON-RPC error ({@link AUTH_ERROR_CODE},
 * `data: { status, wwwAuthenticate, error }`; id null when the first message was a notification),
 * then closes the connection. When the admitted identity's `expiresAt` passes, the connection gets
 * the same error for 401 `invalid_token` with id null, and is closed (in-flight handlers are
 * cancelled).
 * @module
 */
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { Authenticator, AuthError, AuthRequest, CertificateIdentity } from '../../protocol/auth.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import { admit, authErrorResponse, expiredError, metaOf, watchExpiry, withTrace } from '../shared/ingress.js';
import type { SocketTransport, StreamBinding } from './socket-transport.js';

/** What the stream listener knows about a connection before its first message. */
export interface StreamPeer {
  binding: StreamBinding;
  /** The verified client certificate (TLS with `requestCert`). */
  certificate?: CertificateIdentity;
  /** `host:port`, or the socket path. */
  address?: string;
}

/** A {@link SocketTransport} behind the ingress: admitted on its first message. */
export class AdmittedStreamTransport implements Transport {
  readonly binding: StreamBinding;
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly inner: SocketTransport;
  #authenticator: Authenticator | undefined;
  #peer: StreamPeer;
  /** Messages received while admission runs; `undefined` before the first and after admission. */
  #waiting: (JsonRpcMessage | JsonRpcMessage[])[] | undefined;
  #context: MessageContext | undefined;
  #stopWatch: () => void = () => {};
  #refused = false;

  constructor(inner: SocketTransport, peer: StreamPeer, authenticator: Authenticator | undefined) {
    this.inner = inner;
    this.binding = inner.binding;
    this.#peer = peer;
    this.#authenticator = authenticator;
  }

  /** The context of admitted messages (`undefined` until admitted). */
  get context(): MessageContext | undefined {
    return this.#context;
  }

  start(): Promise<void> {
    const inner = this.inner;
    inner.onmessage = this.#receive;
    inner.onerror = (e) => this.onerror?.(e);
    inner.onclose = () => {
      this.#stopWatch();
      this.onclose?.();
    };
    return inner.start();
  }

  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #receive = (message: JsonRpcMessage | JsonRpcMessage[], base: MessageContext): void => {
    const context = this.#context;
    if (context) {
      this.onmessage?.(message, withTrace(context, message));
      return;
    }
    if (this.#refused) return;
    if (this.#waiting) {
      this.#waiting.push(message);
      return;
    }
    this.#waiting = [message];
    // Read nothing more until the verdict: what waits is bounded by the chunk already read.
    this.inner.socket.pause();
    const meta = metaOf(message);
    const request: AuthRequest = { binding: this.binding, headers: {} };
    if (meta) {
      request.meta = meta;
      const authorization = meta.authorization;
      if (typeof authorization === 'string') request.headers.authorization = authorization;
    }
    if (this.#peer.certificate) request.certificate = this.#peer.certificate;
    if (this.#peer.address) request.peer = { address: this.#peer.address };
    void admit(this.#authenticator, request, { onerror: (e) => this.onerror?.(e) }).then((verdict) => {
      const waiting = this.#waiting ?? [];
      this.#waiting = undefined;
      this.inner.socket.resume();
      if (!verdict.ok) return this.#refuse(waiting, verdict.error);
      const admitted: MessageContext = verdict.authInfo ? { ...base, authInfo: verdict.authInfo } : base;
      this.#context = admitted;
      this.#stopWatch = watchExpiry(verdict.authInfo, () => this.#expired());
      for (const m of waiting) this.onmessage?.(m, withTrace(admitted, m));
    });
  };

  #refuse(waiting: (JsonRpcMessage | JsonRpcMessage[])[], error: AuthError): void {
    this.#refused = true;
    this.onerror?.(new Error(`anywire: ${this.binding} connection refused: ${error.message}`));
    let answered = false;
    for (const received of waiting) {
      for (const m of Array.isArray(received) ? received : [received]) {
        if ('method' in m && 'id' in m) {
          answered = true;
          void this.inner.send(authErrorResponse(m.id, error)).catch(() => {});
        }
      }
    }
    if (!answered) void this.inner.send(authErrorResponse(null, error)).catch(() => {});
    void this.inner.close();
  }

  #expired(): void {
    if (this.#refused) return;
    this.#refused = true;
    this.#context = undefined;
    this.onerror?.(new Error(`anywire: ${this.binding} connection closed: the credentials expired`));
    void this.inner.send(authErrorResponse(null, expiredError())).catch(() => {});
    void this.inner.close();
  }
}
