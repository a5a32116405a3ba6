/**
 * The built-in session methods: the legacy lifecycle and per-session state (`initialize`, `ping`,
 * `logging/setLevel`, `resources/subscribe`, `resources/unsubscribe`; 2025-11-25 basic/lifecycle,
 * server/utilities/logging, server/resources) and the modern `subscriptions/listen` stream
 * (2026-07-28 basic/patterns/subscriptions).
 * @module
 */
import { ErrorCode, JsonRpcError } from '../../jsonrpc/errors.js';
import { isModernVersion, LOG_LEVELS, META } from '../../protocol/constants.js';
import { supportedVersions } from '../../protocol/eras.js';
import type { ClientCapabilities, JsonObject } from '../../protocol/types.js';
import type { LegacySession } from '../context.js';
import { contextInternals } from '../context.js';
import type { ServerCore } from '../core.js';
import { grantFilter, isEmptyFilter, ListenSubscription } from '../listen.js';
import { DEFAULT_MAX_LISTEN_STREAMS } from '../options.js';
import { invalidParams, isObject } from './wire.js';
import { sessionOpened } from '../../telemetry/sessions.js';

const LEGACY = ['legacy'] as const;

function negotiate(core: ServerCore, requested: unknown): string | undefined {
  const legacy = supportedVersions(core).filter((v) => !isModernVersion(v));
  if (legacy.length === 0) return undefined;
  return typeof requested === 'string' && legacy.includes(requested) ? requested : legacy[0];
}

/** Registers the session methods of `core` in its method table. */
export function registerSessionMethods(core: ServerCore): void {
  const { methods } = core;

  methods.register(
    'initialize',
    (params, ctx) => {
      const session = contextInternals(ctx).scope.session;
      if (!session)
        throw new JsonRpcError(
          ErrorCode.InvalidRequest,
          'Invalid Request: this binding has no legacy sessions',
        );
      // A session initializes once (as the SDK v1 server answers a second initialize).
      if (session.protocolVersion !== undefined)
        throw new JsonRpcError(ErrorCode.InvalidRequest, 'Invalid Request: server already initialized');
      const version = negotiate(core, params.protocolVersion);
      if (version === undefined) {
        // A modern-only server names its versions in the error (2026-07-28 basic/versioning).
        throw new JsonRpcError(ErrorCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
          supported: [...supportedVersions(core)],
          requested: params.protocolVersion,
        });
      }
      if (!isObject(params.capabilities)) {
        throw invalidParams('Invalid params: initialize needs a capabilities object');
      }
      session.protocolVersion = version;
      session.clientCapabilities = params.capabilities as ClientCapabilities;
      session.clientInfo = params.clientInfo as LegacySession['clientInfo'];
      core.hub.sessions.add(session);
      sessionOpened(session);
      const result: JsonObject = {
        protocolVersion: version,
        capabilities: core.capabilities('legacy'),
        serverInfo: core.info,
      };
      if (core.options.instructions !== undefined) result.instructions = core.options.instructions;
      return result;
    },
    LEGACY,
  );

  methods.register('ping', () => ({}), LEGACY);

  methods.register(
    'logging/setLevel',
    (params, ctx) => {
      if (!(LOG_LEVELS as readonly unknown[]).includes(params.level)) {
        throw invalidParams(`Invalid params: unknown log level ${JSON.stringify(params.level)}`);
      }
      contextInternals(ctx).scope.session!.logLevel = params.level as string;
      return {};
    },
    LEGACY,
  );

  for (const method of ['resources/subscribe', 'resources/unsubscribe'] as const) {
    methods.register(
      method,
      (params, ctx) => {
        if (!core.capabilities('legacy').resources?.subscribe)
          throw new JsonRpcError(
            ErrorCode.MethodNotFound,
            `Method not found: ${method} (this server does not offer resource subscriptions)`,
          );
        if (typeof params.uri !== 'string') throw invalidParams('Invalid params: uri must be a string');
        const subscriptions = contextInternals(ctx).scope.session!.subscriptions;
        if (method === 'resources/subscribe') subscriptions.add(params.uri);
        else subscriptions.delete(params.uri);
        return {};
      },
      LEGACY,
    );
  }

  methods.register('subscriptions/listen', async (params, ctx) => {
    if (ctx.era !== 'modern')
      throw new JsonRpcError(
        ErrorCode.MethodNotFound,
        'Method not found: subscriptions/listen needs protocol revision 2026-07-28',
      );
    const scope = contextInternals(ctx).scope;
    const requested = params.notifications ?? {};
    if (!isObject(requested)) throw invalidParams('Invalid params: notifications must be an object');
    const granted = grantFilter(requested, core.capabilities('modern'));
    const sub = new ListenSubscription(scope.call.id, granted, (m, p) => scope.notify(m, p));
    // Nothing could ever be delivered: acknowledge the empty filter and end now (no held stream).
    if (isEmptyFilter(granted)) {
      await sub.send('notifications/subscriptions/acknowledged', { notifications: granted });
      return { resultType: 'complete', _meta: { [META.subscriptionId]: scope.call.id } };
    }
    const max = core.options.maxListenStreams ?? DEFAULT_MAX_LISTEN_STREAMS;
    if (core.hub.listens.size >= max)
      throw new JsonRpcError(
        ErrorCode.ListenStreamLimit,
        `Too many listen streams: this server holds at most ${max} (maxListenStreams); retry later`,
        { limit: 'maxListenStreams', max },
      );
    // Counted from here (before the acknowledgement is awaited), so concurrent listens cannot overshoot.
    core.hub.listens.add(sub);
    try {
      await sub.send('notifications/subscriptions/acknowledged', { notifications: granted });
      await new Promise<void>((resolve) => {
        void sub.ended.then(resolve);
        const signal = scope.call.signal;
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      core.hub.listens.delete(sub);
      sub.end();
    }
    return { resultType: 'complete', _meta: { [META.subscriptionId]: scope.call.id } };
  });
}
