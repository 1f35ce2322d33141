// Traffic counters for the removal report and the cockpit (docs/stages.md, "The removal report"):
// per connection, decisions by backend and by outcome, and when each backend and route was last used.
// The hot path only increments numbers in a per-connection object; a timer drains them into the
// shared store (hour and minute buckets with a TTL), so the report is right across replicas.
import type { PipelineResult } from '../model/decision';
import { attributedBackend, BROKEN_LOGIN_REASONS, denyReason } from './decision-view';

/** Outcome categories of the decision mix, in plot order. */
export const CATEGORIES = ['allow_legacy', 'allow_new', 'deny_broken', 'deny_other'] as const;
export type Category = (typeof CATEGORIES)[number];

interface Counters {
  backends: Map<string, number>;
  categories: number[];
  /** backend id / route path → last time (ms) */
  seenBackend: Map<string, number>;
  seenRoute: Map<string, number>;
  seenAny: number;
  dirty: boolean;
}

/** What one flush carries to the store for one connection. */
export interface ConnectionDelta {
  connection: string;
  backends: Record<string, number>;
  categories: Partial<Record<Category, number>>;
  /** `b:<backend>`, `r:<route>`, `any` → last seen (ms) */
  seen: Record<string, number>;
}

export interface TrafficDelta {
  /** Flush time (ms): the hour and minute buckets the counts land in. */
  at: number;
  connections: ConnectionDelta[];
}

export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

export class TrafficCounters {
  private readonly byConnection = new Map<string, Counters>();

  /** Hot path: a few increments. `now` is the check's clock (ms). */
  observe(result: PipelineResult, now: number): void {
    const conn = result.connection;
    if (conn === null) return;
    let c = this.byConnection.get(conn.name);
    if (c === undefined) {
      c = { backends: new Map(), categories: [0, 0, 0, 0], seenBackend: new Map(), seenRoute: new Map(), seenAny: 0, dirty: false };
      this.byConnection.set(conn.name, c);
    }
    c.dirty = true;
    c.seenAny = now;
    const backend = attributedBackend(result);
    if (backend !== null) {
      c.backends.set(backend, (c.backends.get(backend) ?? 0) + 1);
      c.seenBackend.set(backend, now);
    }
    const deny = denyReason(result);
    if (deny === null) {
      const legacy = conn.backends.find((b) => b.role === 'legacy');
      c.categories[legacy !== undefined && backend === legacy.id ? 0 : 1]++;
    } else c.categories[BROKEN_LOGIN_REASONS.has(deny) ? 2 : 3]++;
    const route = result.event?.input?.callback.route;
    if (typeof route === 'string') c.seenRoute.set(route, now);
  }

  /** Takes what was counted since the last drain. */
  drain(at: number): TrafficDelta {
    const connections: ConnectionDelta[] = [];
    for (const [name, c] of this.byConnection) {
      if (!c.dirty) continue;
      const d: ConnectionDelta = { connection: name, backends: Object.fromEntries(c.backends), categories: {}, seen: { any: c.seenAny } };
      CATEGORIES.forEach((k, i) => {
        if (c.categories[i] > 0) d.categories[k] = c.categories[i];
      });
      for (const [b, t] of c.seenBackend) d.seen[`b:${b}`] = t;
      for (const [r, t] of c.seenRoute) d.seen[`r:${r}`] = t;
      connections.push(d);
      c.backends.clear();
      c.categories.fill(0);
      c.seenBackend.clear();
      c.seenRoute.clear();
      c.dirty = false;
    }
    return { at, connections };
  }

  /** Puts a delta back (the store could not take it): nothing counted is lost to a store blip. */
  restore(delta: TrafficDelta): void {
    for (const d of delta.connections) {
      let c = this.byConnection.get(d.connection);
      if (c === undefined) {
        c = { backends: new Map(), categories: [0, 0, 0, 0], seenBackend: new Map(), seenRoute: new Map(), seenAny: 0, dirty: false };
        this.byConnection.set(d.connection, c);
      }
      c.dirty = true;
      for (const [b, n] of Object.entries(d.backends)) c.backends.set(b, (c.backends.get(b) ?? 0) + n);
      CATEGORIES.forEach((k, i) => {
        c.categories[i] += d.categories[k] ?? 0;
      });
      for (const [k, t] of Object.entries(d.seen)) {
        if (k === 'any') c.seenAny = Math.max(c.seenAny, t);
        else if (k.startsWith('b:')) c.seenBackend.set(k.slice(2), Math.max(c.seenBackend.get(k.slice(2)) ?? 0, t));
        else if (k.startsWith('r:')) c.seenRoute.set(k.slice(2), Math.max(c.seenRoute.get(k.slice(2)) ?? 0, t));
      }
    }
  }
}

/** One hour (or minute) bucket as the store returns it: `b:<backend>` and `c:<category>` counts. */
export interface Bucket {
  start: number;
  counts: Record<string, number>;
}
