// docs/stages.md, "The stages", every cell of the stage table, through the real pipeline (facts + Rego policy) on the
// demo connection: pinned legacy, pinned new, new flows (canary both sides), legacy-issued tokens,
// with drain deadlines and sunset. Plus the property: no sequence of stage changes moves a pinned flow.
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import type { ConnectionConfig, Stage } from '../../ext-authz/src/model/registry';
import { cohortBucket } from '../../ext-authz/src/pipeline/facts/migration';
import type { PipelineResult } from '../../ext-authz/src/model/decision';
import { LEGACY_ISS, NEW_ISS, demoJwt, freshCode, makeDemo, oauthCallback, view } from '../support/demo-harness';
import type { Demo } from '../support/demo-harness';

const MIN = 60_000;
const ROUTES = {
  oauth_callback: ['/oauth2/callback'], saml_acs: ['/saml/acs'], login_start: ['/login'], webhook: ['/webhooks/idp'],
  logout: ['/backchannel-logout'], agent: ['/agent/callback'],
};

type Cell = [action: 'allow' | 'rewrite' | 'deny', backend: string | null, reason: string, also?: string];
type Column = 'legacyPin' | 'newPin' | 'newFlowIn' | 'newFlowOut' | 'legacyToken';
interface Row {
  name: string;
  stage: Stage;
  /** drain_until relative to the callback time: 'within' (+1 h), 'after' (-1 min), none. */
  drain?: 'within' | 'after';
  sunset?: boolean;
  cells: Record<Column, Cell>;
}

const L = 'legacy';
const N = 'new';
const TABLE: Row[] = [
  {
    name: 'observe', stage: 'observe',
    cells: { legacyPin: ['allow', L, 'pinned_legacy'], newPin: ['deny', null, 'backend_not_live'], newFlowIn: ['allow', L, 'stage_legacy'], newFlowOut: ['allow', L, 'stage_legacy'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'shadow', stage: 'shadow',
    cells: { legacyPin: ['allow', L, 'pinned_legacy', 'no_mirror_nonidempotent'], newPin: ['allow', N, 'pinned_new', 'no_mirror_nonidempotent'], newFlowIn: ['allow', L, 'stage_legacy'], newFlowOut: ['allow', L, 'stage_legacy'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'canary 50%', stage: 'canary',
    cells: { legacyPin: ['allow', L, 'pinned_legacy'], newPin: ['allow', N, 'pinned_new'], newFlowIn: ['rewrite', N, 'canary_cohort'], newFlowOut: ['allow', L, 'canary_cohort'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'cutover within drain', stage: 'cutover', drain: 'within',
    cells: { legacyPin: ['allow', L, 'pinned_legacy'], newPin: ['allow', N, 'pinned_new'], newFlowIn: ['rewrite', N, 'stage_new'], newFlowOut: ['rewrite', N, 'stage_new'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'cutover after drain', stage: 'cutover', drain: 'after',
    cells: { legacyPin: ['deny', null, 'drain_expired'], newPin: ['allow', N, 'pinned_new'], newFlowIn: ['rewrite', N, 'stage_new'], newFlowOut: ['rewrite', N, 'stage_new'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'rollback within drain', stage: 'rollback', drain: 'within',
    cells: { legacyPin: ['allow', L, 'pinned_legacy'], newPin: ['allow', N, 'pinned_new'], newFlowIn: ['allow', L, 'stage_legacy'], newFlowOut: ['allow', L, 'stage_legacy'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'rollback after drain', stage: 'rollback', drain: 'after',
    cells: { legacyPin: ['allow', L, 'pinned_legacy'], newPin: ['deny', null, 'drain_expired'], newFlowIn: ['allow', L, 'stage_legacy'], newFlowOut: ['allow', L, 'stage_legacy'], legacyToken: ['allow', L, 'token_issuer'] },
  },
  {
    name: 'retired', stage: 'retired',
    cells: { legacyPin: ['deny', null, 'backend_retired'], newPin: ['allow', N, 'pinned_new'], newFlowIn: ['rewrite', N, 'stage_new'], newFlowOut: ['rewrite', N, 'stage_new'], legacyToken: ['deny', null, 'legacy_issuer_retired'] },
  },
  {
    name: 'decommissioned', stage: 'decommissioned',
    cells: { legacyPin: ['deny', null, 'backend_retired', 'proxy_decommissioned'], newPin: ['allow', N, 'pinned_new', 'proxy_decommissioned'], newFlowIn: ['rewrite', N, 'stage_new', 'proxy_decommissioned'], newFlowOut: ['rewrite', N, 'stage_new', 'proxy_decommissioned'], legacyToken: ['deny', null, 'legacy_issuer_retired'] },
  },
  {
    name: 'canary past sunset_at', stage: 'canary', sunset: true,
    cells: { legacyPin: ['deny', null, 'proxy_sunset_exceeded'], newPin: ['allow', N, 'pinned_new', 'proxy_sunset_exceeded'], newFlowIn: ['rewrite', N, 'canary_cohort', 'proxy_sunset_exceeded'], newFlowOut: ['deny', null, 'proxy_sunset_exceeded'], legacyToken: ['deny', null, 'proxy_sunset_exceeded'] },
  },
];

/** Registered client_ids: a cohort is a keyed hash of a client_id the connection registered. */
const CLIENT_IDS = ['demo-client', ...Array.from({ length: 200 }, (_, i) => `client-${i}`)];

/** Registered client ids whose keyed cohort bucket falls inside / outside a 50 % canary. */
function cohortClients(demo: Demo): { inside: string; outside: string } {
  let inside: string | null = null;
  let outside: string | null = null;
  for (let i = 0; (inside === null || outside === null) && i < 1000; i++) {
    const id = `client-${i}`;
    const b = cohortBucket(demo.deps.keys.hash, 'demo', id);
    if (b < 50 && inside === null) inside = id;
    if (b >= 50 && outside === null) outside = id;
  }
  if (inside === null || outside === null) throw new Error('no cohort clients found');
  return { inside, outside };
}

function expectCell(r: PipelineResult, [action, backend, reason, also]: Cell): void {
  expect({ action: r.decision.action, backend: r.decision.backend, reason: r.decision.reasons[0] }).toEqual({ action, backend, reason });
  if (also) expect(r.decision.reasons).toContain(also);
}

/** Runs one cell: pins/tokens are made under canary at t0, then the row's stage applies at t0 + 2 min. */
async function runCell(row: Row, column: Column): Promise<PipelineResult> {
  const demo = makeDemo({ routes: ROUTES, client_ids: CLIENT_IDS });
  const t0 = demo.clock.now;
  const callbackAt = t0 + 2 * MIN;
  const pinned = column === 'legacyPin' || column === 'newPin' ? await demo.mint(column === 'legacyPin' ? 'legacy' : 'new') : null;
  const patch: Partial<ConnectionConfig> = { stage: row.stage, canary_percent: 50 };
  if (row.drain === 'within') patch.drain_until = callbackAt + 60 * MIN;
  if (row.drain === 'after') patch.drain_until = t0 + MIN;
  if (row.sunset) patch.sunset_at = t0 + MIN;
  demo.setConnection(patch);
  demo.clock.now = callbackAt;
  switch (column) {
    case 'legacyPin':
      return demo.decide(oauthCallback([['code', freshCode()], ['state', pinned as string], ['iss', LEGACY_ISS]]));
    case 'newPin':
      return demo.decide(oauthCallback([['code', freshCode()], ['state', pinned as string], ['iss', NEW_ISS]]));
    case 'newFlowIn':
    case 'newFlowOut': {
      const clients = cohortClients(demo);
      const id = column === 'newFlowIn' ? clients.inside : clients.outside;
      return demo.decide(view(`/login?client_id=${id}`));
    }
    case 'legacyToken': {
      // An RFC 9068 access token (typ at+jwt, client_id) for the agent route.
      const jwt = await demoJwt(demo.setup, 'legacy', { sub: 'agent-1', client_id: 'demo-client', jti: randomUUID() }, { typ: 'at+jwt' }, callbackAt);
      return demo.decide(view('/agent/callback', { method: 'POST', headers: { authorization: `Bearer ${jwt}` } }));
    }
  }
}

const cases: [string, Column, Row][] = [];
for (const row of TABLE) for (const column of Object.keys(row.cells) as Column[]) cases.push([`${row.name} × ${column}`, column, row]);

describe('The stage table (docs/stages.md, "The stages") (pipeline + callback policy)', () => {
  test.each(cases)('%s', async (_name, column, row) => {
    expectCell(await runCell(row, column), row.cells[column]);
  });

  test('canary login start pins the chosen backend in the MAC’d cookie hint', async () => {
    const demo = makeDemo({ client_ids: CLIENT_IDS });
    const { inside } = cohortClients(demo);
    const r = await demo.decide(view(`/login?client_id=${inside}`));
    expect(r.decision.backend).toBe('new');
    expect(r.decision.pin).toEqual({ backend: 'new' });
    expect(r.decision.response_headers['set-cookie']).toMatch(/^__Host-cbp_hint=v1\.new\..*; Secure; HttpOnly; SameSite=None/);
  });

  test('rollback never hands a new-issued flow to legacy, even when the client asks', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    demo.setConnection({ stage: 'rollback' });
    const r = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]], { headers: { 'x-callback-backend': 'legacy' } }));
    expect(r.decision.backend).toBe('new');
    expect(r.decision.reasons[0]).toBe('pinned_new');
  });
});

const STAGES: Stage[] = ['observe', 'shadow', 'canary', 'cutover', 'rollback', 'retired', 'decommissioned'];

describe('property: stage changes never move a pinned flow', () => {
  const change = fc.record({
    stage: fc.constantFrom(...STAGES),
    percent: fc.integer({ min: 0, max: 100 }),
    drainOffsetMin: fc.option(fc.integer({ min: -30, max: 30 }), { nil: undefined }),
    sunsetOffsetMin: fc.option(fc.integer({ min: -30, max: 30 }), { nil: undefined }),
    requirePin: fc.boolean(),
  });

  test('a pinned callback goes to its pinned backend or is denied', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'legacy' | 'new'>('legacy', 'new'),
        fc.array(change, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 15 }),
        fc.constantFrom('pinned', 'other', 'none'),
        fc.boolean(),
        async (backend, changes, waitMin, issChoice, spoofHeader) => {
          const demo = makeDemo();
          const t0 = demo.clock.now;
          const state = await demo.mint(backend);
          const other = backend === 'legacy' ? 'new' : 'legacy';
          for (const c of changes) {
            demo.setConnection({
              stage: c.stage,
              canary_percent: c.percent,
              require_pin: c.requirePin,
              drain_until: c.drainOffsetMin === undefined ? undefined : t0 + c.drainOffsetMin * MIN,
              sunset_at: c.sunsetOffsetMin === undefined ? undefined : t0 + c.sunsetOffsetMin * MIN,
            });
          }
          demo.clock.now = t0 + waitMin * MIN;
          const iss = issChoice === 'none' ? [] : [['iss', (issChoice === 'pinned') === (backend === 'legacy') ? LEGACY_ISS : NEW_ISS] as [string, string]];
          const headers: Record<string, string> = spoofHeader ? { 'x-callback-backend': other } : {};
          const r = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ...iss], { headers }));
          if (r.decision.action !== 'deny') {
            expect(r.decision.backend).toBe(backend);
          } else {
            expect(r.decision.backend).toBeNull();
          }
          expect(r.decision.backend).not.toBe(other);
        },
      ),
      { numRuns: 100 },
    );
  });
});
