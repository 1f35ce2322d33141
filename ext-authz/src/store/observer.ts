// What the stores tell the rest of the service (docs/operations.md, "Redis" and "Store budgets"):
// connection state changes, a detected loss of data, a budget that refused an entry, settings that put
// markers at risk. The server wires these to readiness, logs and metrics (server/store-watch.ts).
// Callbacks must not throw; the stores swallow anything they do throw.
import type { BudgetClass } from './budgets';

/** `up`: usable. `down`: not answering. `reconnecting`: the client is trying to reconnect. */
export type StoreState = 'starting' | 'up' | 'down' | 'reconnecting';

/** How a loss showed: no epoch at all (restarted empty / flushed), sequence went backwards, or another replica started a new epoch. */
export type LossCause = 'empty' | 'rollback' | 'replaced';

export type EpochEvent = 'joined' | 'started' | LossCause;

export type SettingsWarningCode = 'redis_eviction_policy' | 'redis_no_persistence' | 'redis_snapshot_only' | 'redis_config_unreadable';

export interface StoreObserver {
  /** The store's state changed (once per change, never per request). `detail` is a fixed phrase. */
  stateChanged?(state: StoreState, detail: string): void;
  /**
   * This replica has an epoch: one-time things issued before `epochStartMs` are refused from now on.
   * `joined` an existing one at start, `started` the first one (Redis had none), or a loss was found.
   */
  epochStarted?(epochStartMs: number, event: EpochEvent): void;
  /** A budget refused an entry (null: the store itself is out of memory). Called per refusal. */
  budgetFull?(cls: BudgetClass | null): void;
  /** A Redis setting that can lose markers, read at start-up. */
  settingsWarning?(code: SettingsWarningCode, message: string): void;
}

/** Calls an observer hook, never letting it throw into the store. */
export function notify<K extends keyof StoreObserver>(o: StoreObserver | undefined, hook: K, ...args: Parameters<NonNullable<StoreObserver[K]>>): void {
  const f = o?.[hook] as ((...a: unknown[]) => void) | undefined;
  if (f === undefined) return;
  try {
    f.apply(o, args);
  } catch {
    // telemetry never changes what the store does
  }
}
