// Fact provider `webhook`: the signature over the raw body; a verified delivery's id becomes a marker
// for its whole acceptance window; a forged one registers nothing.
import { createHmac } from 'node:crypto';
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { requestPhase } from '../../../../ext-authz/src/pipeline/facts/phases/request';
import { webhookPhase } from '../../../../ext-authz/src/pipeline/facts/phases/webhook';
import { fixture, NOW, post } from '../fixtures';

function signed(secret: string, id: string, body: string, sig?: string) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const ts = String(Math.floor(NOW / 1000));
  const mac = sig ?? createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return post('/webhooks/idp', body, 'application/json', { headers: { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${mac}` } });
}

describe('webhook phase', () => {
  it('verified: a webhook marker for 2 × tolerance', async () => {
    const { deps, setup } = fixture();
    const ctx = await runPhases(newFactsContext(signed(setup.webhookSecret, 'msg_1', '{"a":1}'), deps, NOW), [requestPhase, webhookPhase]);
    expect(ctx.webhook).toMatchObject({ verified: true, error: null });
    expect(ctx.markers).toEqual([{ namespace: 'webhook', hash: ctx.webhook?.id_hash, ttlMs: 600_000, commit: true, issuedAtMs: Math.floor(NOW / 1000) * 1000 - 300_000 }]);
  });

  it('a forged signature registers nothing', async () => {
    const { deps, setup } = fixture();
    const ctx = await runPhases(newFactsContext(signed(setup.webhookSecret, 'msg_2', '{}', 'AAAA'), deps, NOW), [requestPhase, webhookPhase]);
    expect(ctx.violations).toEqual(['bad_signature']);
    expect(ctx.markers).toEqual([]);
  });
});
