// What the service does with the stores' reports (docs/operations.md, "Redis", "Store budgets"):
//   * connection state → readiness condition `store` (not ready unless up), the store-up gauge, and one
//     log line per change: store_down, store_reconnecting, store_up ("back" after an outage);
//   * a new epoch after a loss → an error line (store_data_lost) and a counter; flows issued before it
//     are refused by the facts phase (store_data_lost, restart hint);
//   * a full budget → a counter per refusal and a warning line at most once per class per interval,
//     saying how many refusals the quiet period hid;
//   * settings that can lose markers → one warning each, at start.
// Nothing here sees a request value: classes, causes and fixed phrases only.
import type { BudgetClass } from '../store/budgets';
import type { EpochEvent, SettingsWarningCode, StoreObserver, StoreState } from '../store/observer';
import type { Logger } from '../telemetry/logger';
import type { ServiceMetrics, StoreKind } from '../telemetry/service-metrics';
import type { Readiness } from './health';

export type { StoreKind } from '../telemetry/service-metrics';

export interface StoreWatchOptions {
  kind: StoreKind;
  logger: Logger;
  metrics: ServiceMetrics;
  readiness: Readiness;
  /** Epoch ms, for log throttling (default Date.now). */
  clock?: () => number;
  /** At most one budget line per class per this many ms (default 60 s). */
  budgetLogIntervalMs?: number;
}

const STATE_LOG: Record<Exclude<StoreState, 'starting'>, { level: 'info' | 'warn' | 'error'; event: string; msg: string }> = {
  up: { level: 'info', event: 'store_up', msg: 'store usable' },
  down: { level: 'error', event: 'store_down', msg: 'store down: requests that need it are denied store_unavailable' },
  reconnecting: { level: 'warn', event: 'store_reconnecting', msg: 'store reconnecting' },
};

/** The condition name readiness reports for the store. */
export const STORE_CONDITION = 'store';

export function watchStore(o: StoreWatchOptions): StoreObserver {
  const clock = o.clock ?? Date.now;
  const interval = o.budgetLogIntervalMs ?? 60_000;
  const budgetLog = new Map<string, { at: number; hidden: number }>();
  let wasDown = false;
  const safe = (f: () => void): void => {
    try {
      f();
    } catch {
      // telemetry never throws into the store
    }
  };
  if (o.kind === 'redis') {
    o.readiness.set(STORE_CONDITION, false, 'redis connecting');
    o.metrics.setStoreUp(o.kind, false);
  } else {
    o.metrics.setStoreUp(o.kind, true);
  }
  return {
    stateChanged(state: StoreState, detail: string): void {
      if (state === 'starting') return;
      const up = state === 'up';
      safe(() => o.readiness.set(STORE_CONDITION, up, `${o.kind} ${state}`));
      safe(() => o.metrics.setStoreUp(o.kind, up));
      const l = STATE_LOG[state];
      safe(() => o.logger[l.level]({ event: l.event, store: o.kind, detail: detail || undefined, back: up && wasDown ? true : undefined }, up && wasDown ? 'store back' : l.msg));
      wasDown = !up;
    },
    epochStarted(epochStartMs: number, event: EpochEvent): void {
      const since = new Date(epochStartMs).toISOString();
      if (event === 'joined') {
        safe(() => o.logger.info({ event: 'store_epoch_joined', store: o.kind, epoch_start: since }, 'store epoch joined'));
      } else if (event === 'started') {
        safe(() => o.logger.warn({ event: 'store_epoch_started', store: o.kind, epoch_start: since }, 'the store held no epoch (new, or it lost its data while the service was down): flows issued before now are refused'));
      } else {
        safe(() => o.metrics.storeDataLost.add([event]));
        safe(() => o.logger.error({ event: 'store_data_lost', store: o.kind, cause: event, epoch_start: since }, 'the store lost its data: flows, tokens and webhooks issued before the new epoch are refused (store_data_lost); users restart the login'));
      }
    },
    budgetFull(cls: BudgetClass | null): void {
      const name = cls ?? 'memory';
      safe(() => o.metrics.storeBudgetExhausted.add([name]));
      const now = clock();
      const seen = budgetLog.get(name);
      if (seen !== undefined && now - seen.at < interval) {
        seen.hidden++;
        return;
      }
      const hidden = seen?.hidden ?? 0;
      budgetLog.set(name, { at: now, hidden: 0 });
      safe(() => o.logger.warn({ event: 'replay_budget_exhausted', store: o.kind, class: name, suppressed: hidden }, cls === null ? 'the store is out of memory: new flows are denied replay_budget_exhausted' : `the ${name} budget is full: new flows are denied replay_budget_exhausted until held entries expire`));
    },
    settingsWarning(code: SettingsWarningCode, message: string): void {
      safe(() => o.logger.warn({ event: code, store: o.kind }, message));
    },
  };
}
