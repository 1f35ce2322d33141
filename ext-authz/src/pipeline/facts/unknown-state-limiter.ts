// The unknown-state limiter (docs/threat-model.md T-C6, manufactured-code flood): token buckets per
// source address and per registry connection, charged once for every callback whose state or
// RelayState resolved to nothing (no pin, or a signed envelope that failed its MAC). A source or a
// connection whose bucket is empty has its next store-backed lookups denied rate_limited (429) before
// the pin store is asked. Requests the gate refused are not charged, so one source can spend at most its
// own rate of the connection's: it takes many sources to close a connection's bucket.
//
// This never touches a replay marker: forgetting a limiter entry only forgets a rate. The table is
// bounded (`limits.max_limited_sources`): when full, the source charged longest ago is forgotten.
// State is per replica; time is the request's clock.
import { isIPv4, isIPv6 } from 'node:net';
import type { Limits } from '../../model/registry';

export type LimitScope = 'source' | 'connection';

/** Called once per request the limiter refuses (metrics). Must not throw; a throw is swallowed. */
export type OnLimited = (scope: LimitScope, connection: string) => void;

class Bucket {
  constructor(
    public tokens: number,
    public at: number,
  ) {}
}

const MINUTE_MS = 60_000;

/**
 * The key a source is limited under: an IPv4 address as is, an IPv6 address by its /64 (one subscriber
 * usually holds a whole /64), an IPv4-mapped IPv6 address as its IPv4 address; anything else (no peer
 * address: a forward-auth hop that sends none) shares one bucket.
 */
export function sourceKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return '-';
  if (isIPv4(ip)) return ip;
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (!isIPv6(bare)) return '-';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  const [head, tail] = bare.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => (g.includes('.') ? '0' : Number.parseInt(g, 16).toString(16))).join(':')}::/64`;
}

export class UnknownStateLimiter {
  private readonly sources = new Map<string, Bucket>();
  private readonly connections = new Map<string, Bucket>();

  constructor(private readonly onLimited: OnLimited | null = null) {}

  /** Tokens now in a bucket of `perMin` capacity refilled continuously at `perMin` per minute. */
  private static level(b: Bucket, perMin: number, nowMs: number): number {
    const dt = Math.max(0, nowMs - b.at);
    return Math.min(perMin, b.tokens + (dt * perMin) / MINUTE_MS);
  }

  /**
   * Before a store-backed lookup: which bucket is empty (the request is denied rate_limited), or null.
   * Reads only; creates no entry.
   */
  blocked(ip: string | undefined, connection: string, limits: Limits, nowMs: number): LimitScope | null {
    let scope: LimitScope | null = null;
    const s = this.sources.get(sourceKey(ip));
    if (s !== undefined && UnknownStateLimiter.level(s, limits.unknown_states_per_source_per_min, nowMs) < 1) scope = 'source';
    else {
      const c = this.connections.get(connection);
      if (c !== undefined && UnknownStateLimiter.level(c, limits.unknown_states_per_connection_per_min, nowMs) < 1) scope = 'connection';
    }
    if (scope !== null && this.onLimited !== null) {
      try {
        this.onLimited(scope, connection);
      } catch {
        // metrics never change a decision
      }
    }
    return scope;
  }

  /** After a lookup found nothing: one token from the source's bucket and one from the connection's. */
  charge(ip: string | undefined, connection: string, limits: Limits, nowMs: number): void {
    const key = sourceKey(ip);
    const perSource = limits.unknown_states_per_source_per_min;
    let s = this.sources.get(key);
    if (s !== undefined) this.sources.delete(key); // re-inserted last: the map's order is charge order
    else {
      if (this.sources.size >= limits.max_limited_sources) {
        const oldest = this.sources.keys().next();
        if (!oldest.done) this.sources.delete(oldest.value);
      }
      s = new Bucket(perSource, nowMs);
    }
    UnknownStateLimiter.take(s, perSource, nowMs);
    this.sources.set(key, s);
    const perConn = limits.unknown_states_per_connection_per_min;
    let c = this.connections.get(connection);
    if (c === undefined) {
      c = new Bucket(perConn, nowMs);
      this.connections.set(connection, c);
    }
    UnknownStateLimiter.take(c, perConn, nowMs);
  }

  /** Concurrent requests may all pass the gate before any is charged: the debt is kept, to one bucket's worth. */
  private static take(b: Bucket, perMin: number, nowMs: number): void {
    b.tokens = Math.max(-perMin, UnknownStateLimiter.level(b, perMin, nowMs) - 1);
    b.at = Math.max(b.at, nowMs);
  }

  /** Sources tracked now (bounded by limits.max_limited_sources). */
  get trackedSources(): number {
    return this.sources.size;
  }
}
