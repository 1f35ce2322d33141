// Store budgets (docs/operations.md, "Store budgets"): each class of one-time marker, and pins, has its
// own ceiling on how many entries the store holds at once. Entries are never evicted to make room: a
// full class refuses new entries (the flow is denied replay_budget_exhausted) until held ones reach
// their own expiry, so a used flow can never become usable again. Memory is bounded by bounding what may
// create entries: verified, forwarded flows (markers) and authenticated registrations (pins).
import type { Limits } from '../model/registry';

export type BudgetClass = 'state' | 'code' | 'jti' | 'webhook' | 'pin';

export const BUDGET_CLASSES: readonly BudgetClass[] = ['state', 'code', 'jti', 'webhook', 'pin'];

export type StoreBudgets = Readonly<Record<BudgetClass, number>>;

/** Defaults (the registry's `limits` defaults say the same; docs/operations.md lists both). */
export const DEFAULT_BUDGETS: StoreBudgets = Object.freeze({ state: 250_000, code: 250_000, jti: 100_000, webhook: 100_000, pin: 250_000 });

export function budgetsFromLimits(l: Limits): StoreBudgets {
  return Object.freeze({ state: l.max_state_markers, code: l.max_code_markers, jti: l.max_jti_markers, webhook: l.max_webhook_markers, pin: l.max_pins });
}
