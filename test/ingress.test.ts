/**
 * The shared ingress as pure units: admit() verdicts, the challenge in a JSON-RPC refusal, expiry
 * watching, W3C trace context extraction, and construction-time validation of numeric options on
 * every binding it serves (RangeError naming the option and its range).
 */
import { describe, expect, it } from 'vitest';
import { createEverythingServer } from '../examples/everything/server.js';
import type { AuthRequest, CertificateIdentity } from '../src/protocol/auth.js';
import { AuthError } from '../src/protocol/auth.js';
import { GrpcClientTransport, serveGrpc } from '../src/transports/grpc/index.js';
import { StdioServerTransport } from '../src/transports/stdio/index.js';
import { serveMqtt } from '../src/transports/mqtt/index.js';
import {
  admit,
  AUTH_ERROR_CODE,
  authErrorResponse,
  extractTrace,
  identityAuthInfo,
  watchExpiry,
  withTrace,
} from '../src/transports/shared/ingress.js';
import { serveTcp, TcpClientTransport } from '../src/transports/stream/index.js';
import { serveWebSocket, WebSocketClientTransport } from '../src/transports/websocket/index.js';

const request: AuthRequest = { binding: 'tcp', headers: {} };
const identity: CertificateIdentity = {
  subject: { CN: 'workload' },
  issuer: { CN: 'ca' },
  subjectAltNames: [
    { type: 'DNS', value: 'w.example' },
    { type: 'URI', value: 'spiffe://td/w' },
  ],
  spiffeId: 'spiffe://td/w',
  fingerprint256: 'AA',
  x5tS256: 'thumb',
  serialNumber: '01',
  validFrom: '2026-01-01T00:00:00.000Z',
  validTo: '2099-01-01T00:00:00.000Z',
};

describe('admit', () => {
  it('without an authenticator: anonymous, or the certificate identity', async () => {
    expect(await admit(undefined, request)).toEqual({ ok: true });
    const v = await admit(undefined, { ...request, certificate: identity });
    expect(v).toMatchObject({ ok: true, authInfo: { subject: 'workload', clientId: 'spiffe://td/w' } });
  });

  it('an AuthError is the refusal; any other error is 401 invalid_token without its message, reported', async () => {
    const refused = await admit({ authenticate: () => Promise.reject(new AuthError(403, 'no')) }, request);
    expect(refused).toMatchObject({ ok: false, error: { status: 403 } });
    const reported: Error[] = [];
    const v = await admit(
      {
        authenticate: () => {
          throw new Error('database password is hunter2');
        },
      },
      request,
      { onerror: (e) => reported.push(e) },
    );
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.error.status).toBe(401);
    expect(v.error.wwwAuthenticate).toBe('Bearer error="invalid_token"');
    expect(v.error.message).not.toMatch(/hunter2/);
    expect(reported[0]?.message).toMatch(/hunter2/);
  });

  it('refuses an identity that already expired, and a certificate-bound token without its certificate', async () => {
    const expired = await admit(
      { authenticate: () => ({ token: 't', expiresAt: Date.now() / 1000 - 1 }) },
      request,
    );
    expect(expired).toMatchObject({
      ok: false,
      error: { status: 401, challenge: { error: 'invalid_token' } },
    });
    const bound = { authenticate: () => ({ token: 't', confirmation: { 'x5t#S256': 'thumb' } }) };
    expect(await admit(bound, request)).toMatchObject({ ok: false, error: { status: 401 } });
    expect(await admit(bound, { ...request, certificate: identity })).toMatchObject({ ok: true });
  });

  it('a refusal as JSON-RPC: -32030 with status, challenge and error in data', () => {
    const error = new AuthError(403, 'step up', { error: 'insufficient_scope', scope: 'a b' });
    expect(authErrorResponse(3, error)).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: {
        code: AUTH_ERROR_CODE,
        message: 'Forbidden: step up',
        data: {
          status: 403,
          wwwAuthenticate: 'Bearer error="insufficient_scope", scope="a b"',
          error: 'insufficient_scope',
        },
      },
    });
  });

  it('one certificate mapping: SPIFFE ID as clientId, CN as subject, notAfter as expiresAt', () => {
    expect(identityAuthInfo(identity)).toMatchObject({
      subject: 'workload',
      clientId: 'spiffe://td/w',
      expiresAt: Date.parse('2099-01-01T00:00:00.000Z') / 1000,
    });
    const noCn = identityAuthInfo({ ...identity, subject: {}, spiffeId: undefined });
    expect(noCn).toMatchObject({ subject: 'w.example', clientId: 'w.example' });
  });
});

describe('watchExpiry', () => {
  it('calls back once at expiresAt, at once when already passed, never without one; stop() cancels', async () => {
    const calls: string[] = [];
    watchExpiry({ expiresAt: Date.now() / 1000 + 0.05 }, () => calls.push('soon'));
    watchExpiry({ expiresAt: Date.now() / 1000 - 5 }, () => calls.push('past'));
    watchExpiry({}, () => calls.push('never'));
    const stop = watchExpiry({ expiresAt: Date.now() / 1000 + 0.05 }, () => calls.push('stopped'));
    stop();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual(['past']);
    const deadline = Date.now() + 5000;
    while (calls.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual(['past', 'soon']);
  });
});

describe('trace context', () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('reads traceparent, tracestate and baggage from headers, else from _meta', () => {
    expect(extractTrace({ traceparent: tp, tracestate: 'a=1', baggage: 'k=v' })).toEqual({
      traceparent: tp,
      tracestate: 'a=1',
      baggage: 'k=v',
    });
    expect(extractTrace({}, { traceparent: tp })).toEqual({ traceparent: tp });
    expect(extractTrace({})).toBeUndefined();
  });

  it('drops a traceparent that does not parse', () => {
    for (const bad of [
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      'garbage',
    ]) {
      expect(extractTrace({ traceparent: bad }), bad).toBeUndefined();
    }
  });

  it('withTrace adds the message _meta trace to a connection context, and keeps it untouched otherwise', () => {
    const context = { binding: 'websocket' };
    const plain = { jsonrpc: '2.0' as const, id: 1, method: 'ping' };
    expect(withTrace(context, plain)).toBe(context);
    const traced = { jsonrpc: '2.0' as const, id: 1, method: 'ping', params: { _meta: { traceparent: tp } } };
    expect(withTrace(context, traced)).toEqual({ binding: 'websocket', trace: { traceparent: tp } });
    // A key from the wire never reaches a prototype.
    const hostile = JSON.parse(
      '{"jsonrpc":"2.0","id":1,"method":"x","params":{"__proto__":{"_meta":{"traceparent":"1"}}}}',
    );
    expect(withTrace(context, hostile)).toBe(context);
  });
});

describe('numeric options are validated when the binding is built', () => {
  const server = createEverythingServer();
  it.each([
    [
      'serveTcp maxConnections',
      () => serveTcp(server, { maxConnections: 0 }),
      /maxConnections must be an integer from 1/,
    ],
    [
      'serveTcp closeTimeoutMs',
      () => serveTcp(server, { closeTimeoutMs: -1 }),
      /closeTimeoutMs must be an integer from 0/,
    ],
    [
      'serveWebSocket keepAliveIntervalMs',
      () => serveWebSocket(server, { keepAliveIntervalMs: 0.5 }),
      /keepAliveIntervalMs/,
    ],
    [
      'serveWebSocket maxConnections',
      () => serveWebSocket(server, { maxConnections: Number.NaN }),
      /maxConnections/,
    ],
    ['serveGrpc maxConnections', () => serveGrpc(server, { port: 0, maxConnections: -3 }), /maxConnections/],
    [
      'serveGrpc shutdownGraceMs',
      () => serveGrpc(server, { port: 0, shutdownGraceMs: -1 }),
      /shutdownGraceMs/,
    ],
    [
      'serveMqtt maxConnections',
      () => serveMqtt(server, { url: 'mqtt://127.0.0.1:1', serverName: 's', maxConnections: 0 }),
      /maxConnections/,
    ],
    [
      'serveMqtt clientIdleTimeoutMs',
      () => serveMqtt(server, { url: 'mqtt://127.0.0.1:1', serverName: 's', clientIdleTimeoutMs: -1 }),
      /clientIdleTimeoutMs/,
    ],
  ])('%s', async (_name, build, message) => {
    const error = await build().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(message);
  });

  it('and on the client transports, when they are constructed', () => {
    expect(() => new WebSocketClientTransport('ws://127.0.0.1:1', { connectTimeoutMs: 0 })).toThrow(
      /connectTimeoutMs must be an integer from 1/,
    );
    expect(() => new TcpClientTransport({ port: 1, maxMessageBytes: 0 })).toThrow(RangeError);
    expect(() => new GrpcClientTransport({ url: 'grpc://127.0.0.1:1', deadlineMs: -5 })).toThrow(
      /deadlineMs/,
    );
    expect(() => new StdioServerTransport({ responseAfterNotificationDelayMs: -1 })).toThrow(
      /responseAfterNotificationDelayMs/,
    );
  });
});
