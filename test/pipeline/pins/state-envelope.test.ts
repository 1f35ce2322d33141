// Signed state envelopes (docs/architecture.md, "Pins" way 1, threat model T-S5, T-T1).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
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

/** base64url alphabet in value order (RFC 4648 §5 table 2). */
const URL_ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Every other spelling of a minted envelope's MAC that a lenient base64url decoder (Node's Buffer)
 * reads as the same 32 bytes: the three siblings of the last character (its 2 unused low bits set),
 * padding, the standard alphabet, and whitespace or junk characters that such a decoder skips.
 */
function respellings(state: string, at: number): string[] {
  const dot = state.lastIndexOf('.');
  const head = state.slice(0, dot + 1);
  const mac = state.slice(dot + 1);
  const last = URL_ALPHA.indexOf(mac[42]);
  const out: string[] = [];
  for (let low = 1; low < 4; low++) out.push(head + mac.slice(0, 42) + URL_ALPHA[last | low]);
  out.push(`${head}${mac}=`, `${head}${mac}==`);
  out.push(head + mac.replace(/-/g, '+').replace(/_/g, '/'));
  const i = at % mac.length;
  for (const junk of [' ', '\t', '\n', '!', '*']) out.push(head + mac.slice(0, i) + junk + mac.slice(i));
  return out.filter((v) => v !== state);
}

describe('one spelling per envelope (non-canonical encodings, T-S4/T-S5)', () => {
  test('property: for every minted state, every other spelling of the same MAC bytes is refused', () => {
    fc.assert(
      fc.property(fc.constantFrom('demo', 'tenant-b'), fc.integer({ min: 0, max: 10_000_000 }), fc.nat(), (conn, dt, at) => {
        const now = NOW + dt * 1000;
        const s = signEnvelope(KEY, conn, 'new', now, 600);
        expect(verifyEnvelope(s, keys, conn, now)).toMatchObject({ kind: 'ok', expired: false });
        const mac = Buffer.from(s.slice(s.lastIndexOf('.') + 1), 'base64url');
        const variants = respellings(s, at);
        expect(variants.length).toBeGreaterThanOrEqual(9);
        for (const v of variants) {
          // A lenient decoder cannot tell them apart from the genuine MAC...
          expect(Buffer.from(v.slice(v.lastIndexOf('.') + 1), 'base64url').equals(mac)).toBe(true);
          // ...this one refuses each, and says why when it is a re-spelling of well-formed bytes.
          const r = verifyEnvelope(v, keys, conn, now);
          expect(r.kind).toBe('bad_mac');
          if (r.kind === 'bad_mac' && !/[!*]/.test(v)) expect(r.reason).toBe('non_canonical_encoding');
        }
      }),
      { numRuns: 200 },
    );
  });

  test('the refusal does not depend on the key: an unknown backend re-spelt is still non_canonical_encoding', () => {
    const s = signEnvelope(randomBytes(32), 'demo', 'other', NOW, 600);
    const v = respellings(s, 0)[0];
    expect(verifyEnvelope(s, keys, 'demo', NOW)).toEqual({ kind: 'bad_mac', reason: 'state_bad_mac' });
    expect(verifyEnvelope(v, keys, 'demo', NOW)).toEqual({ kind: 'bad_mac', reason: 'non_canonical_encoding' });
  });
});
