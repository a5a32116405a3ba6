/**
 * Session durations (`mcp.server.session.duration`, `mcp.client.session.duration`, histograms in
 * seconds): a session is stamped when it opens and measured when it closes, only while an SDK's
 * meter provider is installed. Stamps are held weakly: a session that is never closed costs nothing.
 * @module
 */
import type { Attributes } from '@opentelemetry/api';
import type { Era } from '../protocol/eras.js';
import { addBinding, ATTR } from './attributes.js';
import { activeInstruments } from './instruments.js';
import { telemetryActive } from './observe.js';

const opened = new WeakMap<object, number>();
const now = (): number => globalThis.performance.now();

/** Stamps the start of `session` (a legacy session that completed `initialize`, or a connected client). */
export function sessionOpened(session: object): void {
  if (!telemetryActive() || activeInstruments() === undefined) return;
  if (!opened.has(session)) opened.set(session, now());
}

/** What a closing session is recorded with. */
export interface SessionEnd {
  side: 'server' | 'client';
  era?: Era;
  protocolVersion?: string;
  binding?: string;
}

/** Records the duration of `session` when it was stamped by {@link sessionOpened}. */
export function sessionClosed(session: object, end: SessionEnd): void {
  const started = opened.get(session);
  if (started === undefined) return;
  opened.delete(session);
  const inst = activeInstruments();
  if (!inst) return;
  const attrs: Attributes = {};
  if (end.era) attrs[ATTR.era] = end.era;
  if (end.protocolVersion) attrs[ATTR.protocolVersion] = end.protocolVersion;
  addBinding(attrs, end.binding);
  const seconds = (now() - started) / 1000;
  if (end.side === 'server') inst.serverSessionDuration.record(seconds, attrs);
  else inst.clientSessionDuration.record(seconds, attrs);
}
