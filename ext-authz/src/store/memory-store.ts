// In-memory pin and replay stores (docs/architecture.md, "Pins": the default for one replica). Every entry lives until its
// own expiry and is never evicted early: each class has a budget (store/budgets.ts) and a full class
// refuses new entries, so a used flow can never become usable again by pushing its marker out.
// Time comes from an injectable clock (tests drive it; nothing here reads the wall clock on its own).
// Single-threaded JS makes each put and each commit atomic: every check and every write of one call
// happen in the same synchronous run, with no await in between.
import { DEFAULT_BUDGETS } from './budgets';
import type { BudgetClass, StoreBudgets } from './budgets';
import { ExpiryIndex } from './expiry-index';
import { notify } from './observer';
import type { StoreObserver } from './observer';
import type { CommitResult, Marker, MarkerKey, PinRecord, PinStore, PutResult, ReplayNamespace, ReplayStore } from './types';
import { budgetClassOf, samePinOwner } from './types';

export interface MemoryStoreOptions {
  /** Epoch ms: the stores' only time source (default Date.now; tests pass their own). */
  clock?: () => number;
  /** Per-class budgets (default DEFAULT_BUDGETS; the app applies the registry's `limits`). */
  budgets?: Partial<StoreBudgets>;
  /**
   * Replay store: since when it holds every marker. A process restart loses them all, so the app
   * passes its start time and anything issued earlier is refused (ReplayStore.epochStartMs). Default 0.
   */
  epochStartMs?: number;
  /** The namespaces `epochStartMs` is claimed for (default all); the others report 0. */
  epochNamespaces?: readonly ReplayNamespace[];
  /** Expiry granularity in ms (default 1000): entries live up to one tick longer, never shorter. */
  tickMs?: number;
  /** Told about every entry a full budget refused. */
  observer?: StoreObserver;
}

function budgetsOf(opts: MemoryStoreOptions): StoreBudgets {
  return { ...DEFAULT_BUDGETS, ...(opts.budgets ?? {}) };
}

/** A held pin and the expiry tick it was stored with. */
class PinSlot {
  constructor(
    readonly pin: PinRecord,
    readonly tick: number,
  ) {}
}

export class MemoryPinStore implements PinStore {
  private readonly pins = new Map<string, PinSlot>();
  private readonly index: ExpiryIndex;
  private readonly clock: () => number;
  private readonly observer: StoreObserver | undefined;
  private budget: number;

  constructor(opts: MemoryStoreOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.index = new ExpiryIndex(opts.tickMs);
    this.budget = budgetsOf(opts).pin;
    this.observer = opts.observer;
  }

  private purge(now: number): void {
    this.index.due(now, (key, tick) => {
      if (this.pins.get(key)?.tick === tick) this.pins.delete(key);
    });
  }

  async put(pin: PinRecord, ttlMs: number): Promise<PutResult> {
    const now = this.clock();
    this.purge(now);
    const prev = this.pins.get(pin.flow_key_hash);
    if (prev !== undefined) return samePinOwner(prev.pin, pin) ? { status: 'unchanged', pin: prev.pin } : { status: 'conflict', owner: prev.pin };
    if (this.pins.size >= this.budget) {
      notify(this.observer, 'budgetFull', 'pin');
      return { status: 'full' };
    }
    const tick = this.index.tickOf(now + Math.max(1, ttlMs));
    this.pins.set(pin.flow_key_hash, new PinSlot(pin, tick));
    this.index.add(pin.flow_key_hash, tick);
    return { status: 'created', pin };
  }

  async get(hash: string): Promise<PinRecord | null> {
    const slot = this.pins.get(hash);
    if (slot === undefined) return null;
    const now = this.clock();
    if (this.index.live(slot.tick, now)) return slot.pin;
    this.purge(now);
    return null;
  }

  setBudgets(budgets: StoreBudgets): void {
    this.budget = budgets.pin;
  }

  /** Pins held (live, plus any whose tick has not been swept yet). */
  get size(): number {
    return this.pins.size;
  }

  /**
   * Pins not used yet, for the removal report (docs/stages.md): connection, backend and expiry only. A
   * pin is used once its flow's one-time marker is committed, so the caller says which hashes are.
   */
  *outstanding(used: (flowKeyHash: string) => boolean): Generator<{ connection: string; backend: string; expires_at: number }> {
    const now = this.clock();
    for (const { pin: p, tick } of this.pins.values()) {
      if (this.index.live(tick, now) && !used(p.flow_key_hash)) yield { connection: p.connection, backend: p.backend, expires_at: p.expires_at };
    }
  }

  async close(): Promise<void> {
    this.pins.clear();
    this.index.clear();
  }
}

const NAMESPACES: readonly ReplayNamespace[] = ['state', 'relay', 'code', 'jti', 'webhook'];

export class MemoryReplayStore implements ReplayStore {
  /** namespace → marker hash → expiry tick. */
  private readonly markers = new Map<ReplayNamespace, Map<string, number>>();
  private readonly indexes = new Map<ReplayNamespace, ExpiryIndex>();
  private readonly clock: () => number;
  private readonly epochStart: number;
  private readonly epochNamespaces: ReadonlySet<ReplayNamespace>;
  private readonly observer: StoreObserver | undefined;
  private budgets: StoreBudgets;

  constructor(opts: MemoryStoreOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.observer = opts.observer;
    this.budgets = budgetsOf(opts);
    this.epochStart = opts.epochStartMs ?? 0;
    this.epochNamespaces = new Set(opts.epochNamespaces ?? NAMESPACES);
    for (const ns of NAMESPACES) {
      this.markers.set(ns, new Map());
      this.indexes.set(ns, new ExpiryIndex(opts.tickMs));
    }
  }

  private map(ns: ReplayNamespace): Map<string, number> {
    return this.markers.get(ns) as Map<string, number>;
  }

  /** Drops every marker whose tick is past; after it, every marker held is live. O(1) when none is due. */
  private purge(now: number): void {
    for (const ns of NAMESPACES) {
      const m = this.map(ns);
      (this.indexes.get(ns) as ExpiryIndex).due(now, (key, tick) => {
        if (m.get(key) === tick) m.delete(key);
      });
    }
  }

  /** Markers held per budget class. */
  counts(): Record<Exclude<BudgetClass, 'pin'>, number> {
    return { state: this.map('state').size + this.map('relay').size, code: this.map('code').size, jti: this.map('jti').size, webhook: this.map('webhook').size };
  }

  /** Live markers by namespace with the latest expiry (ms), for the removal report (docs/stages.md). */
  outstanding(now: number): Map<string, { count: number; latest_expiry: number }> {
    const out = new Map<string, { count: number; latest_expiry: number }>();
    for (const ns of NAMESPACES) {
      const index = this.indexes.get(ns) as ExpiryIndex;
      let count = 0;
      let latest = 0;
      for (const tick of this.map(ns).values()) {
        if (!index.live(tick, now)) continue;
        count++;
        latest = Math.max(latest, tick * index.tickMs);
      }
      if (count > 0) out.set(ns, { count, latest_expiry: latest });
    }
    return out;
  }

  /** Whether a marker is live (synchronous: the removal report's census, never the request path). */
  has(namespace: ReplayNamespace, hash: string): boolean {
    const tick = this.map(namespace).get(hash);
    return tick !== undefined && (this.indexes.get(namespace) as ExpiryIndex).live(tick, this.clock());
  }

  async peek(keys: readonly MarkerKey[]): Promise<boolean[]> {
    this.purge(this.clock());
    const out = new Array<boolean>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.map(keys[i].namespace).has(keys[i].hash);
    return out;
  }

  async commit(markers: readonly Marker[]): Promise<CommitResult> {
    // Check all, then set all, in one synchronous run: no other commit can interleave.
    const now = this.clock();
    this.purge(now);
    for (let i = 0; i < markers.length; i++) {
      if (this.map(markers[i].namespace).has(markers[i].hash)) return { ok: false, taken: i };
    }
    const counts = this.counts();
    const adding: Partial<Record<BudgetClass, number>> = {};
    for (const m of markers) {
      const c = budgetClassOf(m.namespace) as Exclude<BudgetClass, 'pin'>;
      const n = (adding[c] ?? 0) + 1;
      adding[c] = n;
      if (counts[c] + n > this.budgets[c]) {
        notify(this.observer, 'budgetFull', c);
        return { ok: false, full: c };
      }
    }
    for (const m of markers) {
      const index = this.indexes.get(m.namespace) as ExpiryIndex;
      const tick = index.tickOf(now + Math.max(1, Math.ceil(m.ttlMs)));
      this.map(m.namespace).set(m.hash, tick);
      index.add(m.hash, tick);
    }
    return { ok: true };
  }

  epochStartMs(ns: ReplayNamespace): number {
    return this.epochNamespaces.has(ns) ? this.epochStart : 0;
  }

  setBudgets(budgets: StoreBudgets): void {
    this.budgets = budgets;
  }

  async close(): Promise<void> {
    for (const ns of NAMESPACES) {
      this.map(ns).clear();
      (this.indexes.get(ns) as ExpiryIndex).clear();
    }
  }
}
