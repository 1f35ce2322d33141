// The stage transition rules (docs/stages.md, "Stage transitions"): the whole table, roles, approval,
// tickets, drain deadlines, defaults, and the decommission gate — each refusal by its code.
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { LifecycleError } from '../../ext-authz/src/lifecycle/errors';
import { activeFreeze, checkMove, planTransition, TRANSITIONS } from '../../ext-authz/src/lifecycle/transitions';
import type { StageValues, TransitionContext } from '../../ext-authz/src/lifecycle/transitions';
import { STAGES } from '../../ext-authz/src/model/registry';
import type { AdminRole, Stage } from '../../ext-authz/src/model/registry';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const conn = createDemoRegistry().connections[0];

function ctx(current: Partial<StageValues> & { stage: Stage }, over: Partial<TransitionContext> = {}): TransitionContext {
  return {
    connection: conn,
    current: { canary_percent: 0, drain_until: null, ...current },
    at: NOW,
    role: 'approver',
    removable: () => true,
    automatic: false,
    ...over,
  };
}

function code(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof LifecycleError) return e.code;
    throw e;
  }
}

test('the table: exactly the listed moves are legal (approver, ticket given, drains passed)', () => {
  const legal: string[] = [];
  for (const from of STAGES) {
    for (const to of STAGES) {
      const c = code(() => checkMove(to, { ticket: 'INC-1' }, ctx({ stage: from, drain_until: NOW - 1 })));
      if (c === null) legal.push(`${from}>${to}`);
      else expect(c).toBe('illegal_transition');
    }
  }
  expect(legal.sort()).toEqual(
    Object.entries(TRANSITIONS)
      .flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`))
      .sort(),
  );
  // The ones the rules exist for.
  for (const bad of ['observe>retired', 'observe>cutover', 'canary>retired', 'canary>observe', 'cutover>observe', 'observe>decommissioned', 'cutover>decommissioned']) expect(legal).not.toContain(bad);
});

test('roles: viewer never, operator for ordinary moves, approver where the connection requires approval', () => {
  const approval = { ...conn, require_approval: true };
  const role = (r: AdminRole, to: Stage, from: Stage = 'canary') => code(() => checkMove(to, { ticket: 'T' }, ctx({ stage: from, drain_until: NOW - 1 }, { role: r, connection: approval })));
  expect(role('viewer', 'shadow')).toBe('forbidden');
  expect(role('operator', 'shadow')).toBeNull();
  for (const to of ['cutover', 'rollback'] as Stage[]) {
    expect(role('operator', to)).toBe('approval_required');
    expect(role('approver', to)).toBeNull();
  }
  expect(role('operator', 'retired', 'cutover')).toBe('approval_required');
  expect(role('operator', 'decommissioned', 'retired')).toBe('approval_required');
  // Without require_approval an operator may cut over.
  expect(code(() => checkMove('cutover', {}, ctx({ stage: 'canary' }, { role: 'operator' })))).toBeNull();
  // Automatic actions (the SLO guard) are not subject to roles, and need no ticket.
  expect(code(() => checkMove('rollback', {}, ctx({ stage: 'cutover' }, { role: null, automatic: true, connection: approval })))).toBeNull();
});

test('a rollback through the API needs a ticket (T-D3)', () => {
  expect(code(() => checkMove('rollback', {}, ctx({ stage: 'cutover' })))).toBe('ticket_required');
  expect(code(() => checkMove('rollback', { ticket: 'INC-7' }, ctx({ stage: 'cutover' })))).toBeNull();
});

test('drain deadlines: no retirement while legacy drains, no observe while new drains after a rollback', () => {
  expect(code(() => checkMove('retired', {}, ctx({ stage: 'cutover', drain_until: NOW + 1000 })))).toBe('illegal_transition');
  expect(code(() => checkMove('retired', {}, ctx({ stage: 'cutover', drain_until: NOW - 1 })))).toBeNull();
  expect(code(() => checkMove('observe', {}, ctx({ stage: 'rollback', drain_until: NOW + 1000 })))).toBe('illegal_transition');
  expect(code(() => checkMove('observe', {}, ctx({ stage: 'rollback', drain_until: NOW - 1 })))).toBeNull();
});

test('decommissioned only with a clean removal report', () => {
  expect(code(() => checkMove('decommissioned', {}, ctx({ stage: 'retired' }, { removable: () => false })))).toBe('not_removable');
  expect(code(() => checkMove('decommissioned', {}, ctx({ stage: 'retired' }, { removable: () => true })))).toBeNull();
});

test('planned values: canary needs a percentage, cutover defaults its drain to pin_ttl_s, no-ops are refused', () => {
  expect(code(() => planTransition({ to: 'canary' }, ctx({ stage: 'observe' })))).toBe('invalid_argument');
  expect(planTransition({ to: 'canary', canary_percent: 10 }, ctx({ stage: 'observe' }))).toEqual({ stage: 'canary', canary_percent: 10, drain_until: null });
  expect(code(() => planTransition({ to: 'canary', canary_percent: 10 }, ctx({ stage: 'canary', canary_percent: 10 })))).toBe('no_change');
  expect(code(() => planTransition({ to: 'cutover', canary_percent: 10 }, ctx({ stage: 'canary', canary_percent: 10 })))).toBe('invalid_argument');
  expect(planTransition({ to: 'cutover' }, ctx({ stage: 'canary', canary_percent: 50 }))).toEqual({ stage: 'cutover', canary_percent: 50, drain_until: NOW + conn.pin_ttl_s * 1000 });
  expect(code(() => planTransition({ to: 'cutover', drain_until: NOW - 1 }, ctx({ stage: 'canary', canary_percent: 50 })))).toBe('invalid_argument');
  // Retired keeps the deadline the cutover promised (the policy compares pins with it, T-D2).
  expect(planTransition({ to: 'retired' }, ctx({ stage: 'cutover', drain_until: NOW - 5 }))).toMatchObject({ stage: 'retired', drain_until: NOW - 5 });
});

test('freeze windows apply at the time of the change, per connection or to all', () => {
  const w = [
    { start: NOW, end: NOW + 1000, reason: 'all' },
    { start: NOW + 5000, end: NOW + 6000, reason: 'other only', connections: ['other'] },
  ];
  expect(activeFreeze(w, 'demo', NOW)?.reason).toBe('all');
  expect(activeFreeze(w, 'demo', NOW + 1000)).toBeNull(); // [start, end)
  expect(activeFreeze(w, 'demo', NOW + 5500)).toBeNull();
  expect(activeFreeze(w, 'other', NOW + 5500)?.reason).toBe('other only');
});
