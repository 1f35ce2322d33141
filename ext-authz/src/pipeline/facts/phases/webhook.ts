// Fact provider `webhook` (docs/threat-model.md §11): a webhook route's signature over the raw body, verified against
// the connection's secrets. A verified delivery's id is a one-time marker (T-W1, T-W6) that lives for
// the message's whole acceptance window; a forged id is never recorded.
import { verifyWebhook, webhookReplayTtlMs } from '../../webhooks/verify-webhook';
import type { PreparedWebhook } from '../../webhooks/prepare';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';

/**
 * The earliest a verified delivery can have been accepted before: its Standard Webhooks
 * `webhook-timestamp` (already checked to be digits within tolerance) minus the tolerance. GitHub-style
 * deliveries carry no signing time: null.
 */
function signedAtMs(ctx: FactsContext, hook: PreparedWebhook): number | null {
  if (hook.scheme !== 'standard') return null;
  const ts = ctx.req.headers['webhook-timestamp'];
  return ts !== undefined && /^\d{1,12}$/.test(ts) ? Number(ts) * 1000 - hook.toleranceMs : null;
}

async function run(ctx: FactsContext): Promise<void> {
  const hook = ctx.conn?.webhook ?? null;
  if (hook === null) {
    ctx.webhook = { verified: false, scheme: 'standard', secret_id: null, tenant: null, id_hash: null, error: 'bad_signature' };
    addViolation(ctx, 'bad_signature');
    return;
  }
  const w = await verifyWebhook(ctx.req, hook, { hashKey: ctx.deps.keys.hash, nowMs: ctx.nowMs });
  ctx.webhook = w;
  if (w.error) addViolation(ctx, w.error);
  else if (w.id_hash !== null) ctx.markers.push({ namespace: 'webhook', hash: w.id_hash, ttlMs: webhookReplayTtlMs(hook), commit: true, issuedAtMs: signedAtMs(ctx, hook) });
}

export const webhookPhase: FactsPhase = {
  name: 'webhook',
  applies: (ctx) => ctx.clean && ctx.callback.kind === 'webhook',
  run,
};
