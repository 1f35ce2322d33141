// Signed state envelopes (DESIGN §2 strategy B, THREATS T-S5, T-T1).
import { randomBytes } from 'node:crypto';
import { isEnvelope, signEnvelope, verifyEnvelope } from '../../../ext-authz/src/pipeline/pins/state-envelope';

const KEY = randomBytes(32);
const keys = new Map([['new', KEY]]);
const NOW = Date.parse('2026-11-28T12:00:00Z');

describe('state envelopes', () => {
  it('round-trips and fits the default 512 B state limit', () => {
    const s = signEnvelope(KEY, 'demo', 'new', NOW, 600);
    expect(s).toMatch(/^v1\.new\.\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(s.length).toBeLessThan(512);
    expect(verifyEnvelope(s, keys, 'demo', NOW)).toEqual({ kind: 'ok', envelope: { backend: 'new', exp: NOW / 1000 + 600 }, expired: false });
  });

  it('is expired at exp', () => {
    const s = signEnvelope(KEY, 'demo', 'new', NOW, 600);
    expect(verifyEnvelope(s, keys, 'demo', NOW + 600_000)).toMatchObject({ kind: 'ok', expired: true });
  });

  it('T-S5: any tampering is bad_mac', () => {
    const s = signEnvelope(KEY, 'demo', 'new', NOW, 600);
    const [v, b, exp, nonce, mac] = s.split('.');
    const variants = [
      [v, b, String(Number(exp) + 1000), nonce, mac].join('.'),
      [v, b, exp, nonce.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), mac].join('.'),
      [v, 'legacy', exp, nonce, mac].join('.'),
      `v1.new.${exp}.<badmac>.x`,
      `${s}.extra`,
      'v1.',
    ];
    for (const x of variants) expect(verifyEnvelope(x, keys, 'demo', NOW).kind).toBe('bad_mac');
  });

  it('T-T1: bound to the connection', () => {
    const s = signEnvelope(KEY, 'tenant-b', 'new', NOW, 600);
    expect(verifyEnvelope(s, keys, 'demo', NOW).kind).toBe('bad_mac');
  });

  it('non-envelope states fall through to the store', () => {
    expect(isEnvelope('opaque-state')).toBe(false);
    expect(verifyEnvelope('opaque-state', keys, 'demo', NOW).kind).toBe('not_envelope');
  });
});
