// Fact provider `webhook` (THREATS §11): a webhook route's signature over the raw body, verified against
// the connection's secrets. A verified delivery's id is a one-time marker (T-W1, T-W6) that lives for
// the message's whole acceptance window; a forged id is never recorded.
import { verifyWebhook, webhookReplayTtlMs } from '../../webhooks/verify-webhook';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';

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
  else if (w.id_hash !== null) ctx.markers.push({ namespace: 'webhook', hash: w.id_hash, ttlMs: webhookReplayTtlMs(hook), commit: true });
}

export const webhookPhase: FactsPhase = {
  name: 'webhook',
  applies: (ctx) => ctx.clean && ctx.callback.kind === 'webhook',
  run,
};
