// Outstanding pins and replay markers for the removal report and the cockpit's stragglers
// (docs/stages.md, "The removal report"): counts by connection × backend and by namespace, with the
// latest expiry. Never a key or a hash leaves this module. Redis is scanned in bounded batches.
import type Redis from 'ioredis';
import type { MemoryPinStore, MemoryReplayStore } from '../store/memory-store';

export interface PinCount {
  count: number;
  /** epoch ms of the last expiry, 0 when none */
  latest_expiry: number;
}

export interface PinCensus {
  /** `connection|backend` → unconsumed pins */
  pins: Map<string, PinCount>;
  /** replay-marker namespace (state, code, jti, webhook, relay) → live markers */
  markers: Map<string, PinCount>;
  /** The scan stopped at its bound: the counts are lower bounds. */
  truncated: boolean;
  at: number;
}

export type CensusSource = () => Promise<PinCensus>;

const add = (m: Map<string, PinCount>, key: string, expiry: number): void => {
  const e = m.get(key) ?? { count: 0, latest_expiry: 0 };
  e.count++;
  e.latest_expiry = Math.max(e.latest_expiry, expiry);
  m.set(key, e);
};

export function memoryCensus(pins: MemoryPinStore, markers: MemoryReplayStore, clock: () => number = Date.now): CensusSource {
  return async () => {
    const now = clock();
    const out: PinCensus = { pins: new Map(), markers: markers.outstanding(now), truncated: false, at: now };
    const used = (h: string): boolean => markers.has('state', h) || markers.has('relay', h);
    for (const p of pins.outstanding(used)) add(out.pins, `${p.connection}|${p.backend}`, p.expires_at);
    return out;
  };
}

export interface RedisCensusOptions {
  client: Redis;
  prefix?: string;
  /** Keys looked at per kind before giving up (default 200 000). */
  maxKeys?: number;
  clock?: () => number;
}

/** SCANs `<prefix>pin:*` and `<prefix>seen:*` (the keys store/redis-store.ts writes). */
export function redisCensus(opts: RedisCensusOptions): CensusSource {
  const prefix = opts.prefix ?? 'cbp:';
  const max = opts.maxKeys ?? 200_000;
  const clock = opts.clock ?? Date.now;
  return async () => {
    const now = clock();
    const out: PinCensus = { pins: new Map(), markers: new Map(), truncated: false, at: now };
    let seen = 0;
    let cursor = '0';
    do {
      const [next, keys] = await opts.client.scan(cursor, 'MATCH', `${prefix}pin:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        const m = opts.client.pipeline();
        // A pin is used once its flow's one-time marker (seen:state / seen:relay) is committed.
        for (const k of keys) {
          const hash = k.slice(`${prefix}pin:`.length);
          m.hget(k, 'pin');
          m.exists(`${prefix}seen:state:${hash}`, `${prefix}seen:relay:${hash}`);
        }
        const r = (await m.exec()) ?? [];
        for (let i = 0; i + 1 < r.length; i += 2) {
          const [err, v] = r[i];
          const pin = typeof v === 'string' ? v : null;
          if (err || pin === null || Number(r[i + 1][1] ?? 0) > 0) continue;
          try {
            const p = JSON.parse(pin) as { connection?: string; backend?: string; expires_at?: number };
            if (typeof p.connection === 'string' && typeof p.backend === 'string') add(out.pins, `${p.connection}|${p.backend}`, Number(p.expires_at ?? 0));
          } catch {
            // an unreadable pin is not counted (the request path treats it as store_bad_record)
          }
        }
      }
      seen += keys.length;
      if (seen >= max) out.truncated = cursor !== '0';
    } while (cursor !== '0' && seen < max);
    seen = 0;
    cursor = '0';
    do {
      const [next, keys] = await opts.client.scan(cursor, 'MATCH', `${prefix}seen:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        const m = opts.client.pipeline();
        for (const k of keys) m.pttl(k);
        const r = (await m.exec()) ?? [];
        keys.forEach((k, i) => {
          const ttl = Number(r[i]?.[1] ?? -2);
          if (ttl < 0) return;
          const ns = k.slice(prefix.length + 'seen:'.length).split(':')[0];
          add(out.markers, ns, now + ttl);
        });
      }
      seen += keys.length;
      if (seen >= max) out.truncated = out.truncated || cursor !== '0';
    } while (cursor !== '0' && seen < max);
    return out;
  };
}
