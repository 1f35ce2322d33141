// Fact provider `migration` (docs/stages.md, "The stages"): the connection's stage facts and the canary cohort bucket.
// The bucket comes only from facts the caller cannot choose (docs/threat-model.md T-D1):
//   * `cohort_key: client_id` — a keyed hash of a client_id the connection registered (the request
//     provider already denied an unregistered one), so trying values finds nothing;
//   * `cohort_key: random` — a server-side draw when a new flow starts; a valid MAC'd cookie hint from an
//     earlier draw keeps the browser on its side of the split, so retrying the login does not redraw.
import { cohortBucket, migrationFacts } from '../migration';
import type { FactsContext, FactsPhase } from '../context';

/** Flows the stage (and so the cohort) decides: they belong to no earlier flow (docs/architecture.md, "Pins"). */
const NEW_FLOW_KINDS: ReadonlySet<string> = new Set(['login_start', 'webhook', 'saml_post']);
/** A hinted backend keeps its side: bucket 0 is new at any canary percent, 99 legacy below 100 %. */
const NEW_SIDE = 0;
const LEGACY_SIDE = 99;

function bucket(ctx: FactsContext): number | null {
  const conn = ctx.conn;
  if (conn === null) return null;
  const c = conn.config;
  if (c.cohort_key === 'client_id') {
    const id = ctx.callback.client_id;
    return id !== null && conn.clientIds.has(id) ? cohortBucket(ctx.deps.keys.hash, c.name, id) : null;
  }
  if (c.stage !== 'canary' || !NEW_FLOW_KINDS.has(ctx.callback.kind)) return null;
  const hinted = ctx.pin.hint_backend;
  if (hinted === conn.new.id) return NEW_SIDE;
  if (hinted === conn.legacy.id) return LEGACY_SIDE;
  return ctx.deps.cohortDraw();
}

function run(ctx: FactsContext): void {
  const conn = ctx.conn;
  if (conn === null) return;
  ctx.migration = migrationFacts(conn, conn.migration, bucket(ctx), ctx.nowMs);
}

export const migrationPhase: FactsPhase = {
  name: 'migration',
  applies: (ctx) => ctx.conn !== null,
  run,
};
