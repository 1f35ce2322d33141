// Webhook verification (docs/threat-model.md §11 T-W1..T-W6, T-T4, T-H6) over raw bytes, with real HMACs.
import { createHmac, randomBytes } from 'node:crypto';
import type { WebhookConfig } from '../../../ext-authz/src/model/registry';
import type { RequestView } from '../../../ext-authz/src/model/request';
import { prepareWebhook } from '../../../ext-authz/src/pipeline/webhooks/prepare';
import { verifyWebhook } from '../../../ext-authz/src/pipeline/webhooks/verify-webhook';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const TS = String(NOW / 1000);
const KEY_NEW = randomBytes(24);
const KEY_OLD = randomBytes(24);
const KEY_B = randomBytes(24);
const BODY = '{"type":"user.updated", "data": {"id": 1}}';

const standard: WebhookConfig = {
  scheme: 'standard',
  tolerance_s: 300,
  source_cidrs: ['10.0.0.0/8', '2001:db8::/32'],
  secrets: [
    { id: 'current', secret: `whsec_${KEY_NEW.toString('base64')}`, tenant: 'tenant-a' },
    { id: 'old', secret: `whsec_${KEY_OLD.toString('base64')}`, tenant: 'tenant-a', retire_at: NOW - 1000 },
  ],
};

function sign(key: Buffer, id: string, ts: string, body: string): string {
  return createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
}

function req(headers: Record<string, string>, body = BODY, sourceIp = '10.1.2.3'): RequestView {
  return { method: 'POST', scheme: 'https', host: 'h', path: '/wh', headers, duplicateHeaders: [], body, bodyTruncated: false, sourceIp: sourceIp === 'none' ? undefined : sourceIp };
}

function std(id: string, sig: string, ts = TS, extra: Record<string, string> = {}): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig, ...extra };
}

const ctx = () => ({ hashKey: Buffer.alloc(32, 3), nowMs: NOW });

describe('Standard Webhooks', () => {
  const hook = prepareWebhook(standard);

  it('verifies and reports the tenant from the key; verification alone never records the id', async () => {
    const c = ctx();
    const r = req(std('msg_1', `v1,${sign(KEY_NEW, 'msg_1', TS, BODY)}`));
    const first = await verifyWebhook(r, hook, c);
    expect(first).toMatchObject({ verified: true, secret_id: 'current', tenant: 'tenant-a', error: null });
    // Verification never writes: the replay (T-W1) is the id's one-time marker, peeked by the webhook
    // phase and written by the commit phase (test/pipeline/facts/phases.test.ts). Same id, same key.
    expect(await verifyWebhook(r, hook, c)).toMatchObject({ verified: true, id_hash: first.id_hash });
  });

  it('accepts any listed signature that verifies (rotation, space-separated)', async () => {
    const sig = `v1,${randomBytes(32).toString('base64')} v1a,xyz v1,${sign(KEY_NEW, 'msg_2', TS, BODY)}`;
    expect((await verifyWebhook(req(std('msg_2', sig)), hook, ctx())).verified).toBe(true);
  });

  it.each([['+301 s', NOW / 1000 + 301], ['-301 s', NOW / 1000 - 301], ['not a number', 'abc']])('T-W2 timestamp %s → webhook_stale', async (_n, ts) => {
    const t = String(ts);
    expect((await verifyWebhook(req(std('m', `v1,${sign(KEY_NEW, 'm', t, BODY)}`, t)), hook, ctx())).error).toBe('webhook_stale');
  });

  it('T-W3: signature over re-serialised JSON → bad_signature', async () => {
    const reserialised = JSON.stringify(JSON.parse(BODY));
    const sig = `v1,${sign(KEY_NEW, 'm3', TS, reserialised)}`;
    expect((await verifyWebhook(req(std('m3', sig)), hook, ctx())).error).toBe('bad_signature');
  });

  it('T-W4: an id with "." → bad_webhook_id', async () => {
    // id "a.1" with body shifted: the attacker moves the boundary of id.timestamp.body.
    const sig = `v1,${sign(KEY_NEW, 'a.1', TS, BODY)}`;
    expect((await verifyWebhook(req(std('a.1', sig)), hook, ctx())).error).toBe('bad_webhook_id');
  });

  it('T-W5: only a retired secret verifies → secret_retired', async () => {
    expect((await verifyWebhook(req(std('m5', `v1,${sign(KEY_OLD, 'm5', TS, BODY)}`)), hook, ctx())).error).toBe('secret_retired');
    // During rotation: old + new both listed → the active one wins.
    const both = `v1,${sign(KEY_OLD, 'm6', TS, BODY)} v1,${sign(KEY_NEW, 'm6', TS, BODY)}`;
    expect((await verifyWebhook(req(std('m6', both)), hook, ctx())).verified).toBe(true);
  });

  it('T-T4: X-Tenant disagreeing with the verifying key → tenant_mismatch', async () => {
    const sig = `v1,${sign(KEY_NEW, 'm7', TS, BODY)}`;
    expect((await verifyWebhook(req(std('m7', sig, TS, { 'x-tenant': 'tenant-b' })), hook, ctx())).error).toBe('tenant_mismatch');
    expect((await verifyWebhook(req(std('m8', `v1,${sign(KEY_NEW, 'm8', TS, BODY)}`, TS, { 'x-tenant': 'tenant-a' })), hook, ctx())).error).toBeNull();
  });

  it('a key of another tenant does not verify here', async () => {
    expect((await verifyWebhook(req(std('m9', `v1,${sign(KEY_B, 'm9', TS, BODY)}`)), hook, ctx())).error).toBe('bad_signature');
  });

  it('missing headers → bad_signature', async () => {
    expect((await verifyWebhook(req({ 'webhook-id': 'x' }), hook, ctx())).error).toBe('bad_signature');
  });

  it('a forged message does not burn the id', async () => {
    const c = ctx();
    await verifyWebhook(req(std('m10', 'v1,AAAA')), hook, c);
    expect((await verifyWebhook(req(std('m10', `v1,${sign(KEY_NEW, 'm10', TS, BODY)}`)), hook, c)).verified).toBe(true);
  });

  it('a re-spelt v1 signature (pad bits, no padding, the url alphabet, whitespace) → non_canonical_encoding, id not burnt', async () => {
    const c = ctx();
    const good = sign(KEY_NEW, 'm11', TS, BODY); // 44 characters: 43 data + '=', 2 pad bits in the 43rd
    const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const i = alpha.indexOf(good[42]);
    const spellings = [
      `${good.slice(0, 42)}${alpha[i | 1]}=`,
      `${good.slice(0, 42)}${alpha[i | 3]}=`,
      good.slice(0, 43),
      `${good}=`,
      good.replace(/\+/g, '-').replace(/\//g, '_'),
      `${good.slice(0, 20)}\t${good.slice(20)}`,
    ].filter((v) => v !== good);
    for (const v of spellings) {
      expect(Buffer.from(v, 'base64').equals(Buffer.from(good, 'base64'))).toBe(true); // same bytes to a lenient decoder
      expect((await verifyWebhook(req(std('m11', `v1,${v}`)), hook, c)).error).toBe('non_canonical_encoding');
    }
    expect((await verifyWebhook(req(std('m11', `v1,${good}`)), hook, c)).verified).toBe(true);
  });

  it.each([
    ['outside the list', '203.0.113.5', 'source_ip_denied'],
    ['missing', 'none', 'source_ip_denied'],
    ['IPv4-mapped inside', '::ffff:10.9.9.9', null],
    ['IPv6 inside', '2001:db8::1', null],
  ])('T-H6 source %s', async (_n, ip, err) => {
    const id = `ip-${Math.random()}`.replace('.', '');
    const r = req(std(id, `v1,${sign(KEY_NEW, id, TS, BODY)}`, TS, { 'x-forwarded-for': '10.0.0.5' }), BODY, ip);
    expect((await verifyWebhook(r, hook, ctx())).error).toBe(err);
  });
});

describe('GitHub webhooks', () => {
  const SECRET = 'gh-secret-for-tests';
  const hook = prepareWebhook({ scheme: 'github', tolerance_s: 300, secrets: [{ id: 'gh', secret: SECRET }] });
  const sig = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  it('verifies; the delivery id is reported as its replay key', async () => {
    const c = ctx();
    const r = req({ 'x-hub-signature-256': sig(BODY), 'x-github-delivery': 'd-1' });
    const first = await verifyWebhook(r, hook, c);
    expect(first.verified).toBe(true);
    // T-W6: the delivery id is the one-time marker (peeked by the webhook phase, written on commit).
    expect(await verifyWebhook(r, hook, c)).toMatchObject({ verified: true, id_hash: first.id_hash });
  });

  it('bad signature / wrong secret / missing delivery', async () => {
    expect((await verifyWebhook(req({ 'x-hub-signature-256': sig(BODY, 'other'), 'x-github-delivery': 'd-2' }), hook, ctx())).error).toBe('bad_signature');
    expect((await verifyWebhook(req({ 'x-hub-signature-256': 'sha1=abc', 'x-github-delivery': 'd-3' }), hook, ctx())).error).toBe('bad_signature');
    expect((await verifyWebhook(req({ 'x-hub-signature-256': sig(BODY) }), hook, ctx())).error).toBe('bad_webhook_id');
  });

  it('the upper-case twin of the signature → non_canonical_encoding; short or junk hex → bad_signature', async () => {
    const good = sig(BODY);
    const upper = `sha256=${good.slice(7).toUpperCase()}`;
    expect(upper).not.toBe(good);
    expect((await verifyWebhook(req({ 'x-hub-signature-256': upper, 'x-github-delivery': 'd-4' }), hook, ctx())).error).toBe('non_canonical_encoding');
    expect((await verifyWebhook(req({ 'x-hub-signature-256': good.slice(0, -2), 'x-github-delivery': 'd-5' }), hook, ctx())).error).toBe('bad_signature');
    expect((await verifyWebhook(req({ 'x-hub-signature-256': `${good.slice(0, -1)}g`, 'x-github-delivery': 'd-6' }), hook, ctx())).error).toBe('bad_signature');
  });
});

describe('raw bytes', () => {
  it('verifies over RequestView.rawBody when the adapter provides it (non-UTF-8 bytes intact)', async () => {
    const hook = prepareWebhook(standard);
    const raw = Buffer.concat([Buffer.from('{"b":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const mac = createHmac('sha256', KEY_NEW).update(Buffer.concat([Buffer.from(`raw1.${TS}.`), raw])).digest('base64');
    const r = { ...req(std('raw1', `v1,${mac}`), raw.toString('utf8')), rawBody: new Uint8Array(raw) };
    expect((await verifyWebhook(r, hook, ctx())).verified).toBe(true);
    // The lossy UTF-8 string alone would not verify.
    const lossy = req(std('raw2', `v1,${mac}`), raw.toString('utf8'));
    expect((await verifyWebhook(lossy, hook, ctx())).error).toBe('bad_signature');
  });
});
