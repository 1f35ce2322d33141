// The __Host-cbp_hint cookie (docs/architecture.md, "Pins" way 4): MAC'd hint, never a pin on its own.
import { randomBytes } from 'node:crypto';
import { HINT_COOKIE, hintSetCookie, readHintCookie, signHint, verifyHint } from '../../../ext-authz/src/pipeline/pins/cookie-hint';

const KEY = randomBytes(32);
const NOW = Date.parse('2026-11-28T12:00:00Z');

describe('cookie hint', () => {
  it('builds a __Host- cookie with the required attributes', () => {
    const c = hintSetCookie(KEY, 'demo', 'new', NOW, 600);
    expect(c.startsWith(`${HINT_COOKIE}=v1.new.`)).toBe(true);
    expect(c).toContain('; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=600');
    expect(c).not.toMatch(/Domain=/i);
  });

  it('verifies for its connection only, and not after expiry', () => {
    const v = signHint(KEY, 'demo', 'new', NOW, 600);
    expect(verifyHint(KEY, 'demo', v, NOW)).toBe('new');
    expect(verifyHint(KEY, 'other', v, NOW)).toBeNull();
    expect(verifyHint(KEY, 'demo', v, NOW + 600_000)).toBeNull();
    expect(verifyHint(randomBytes(32), 'demo', v, NOW)).toBeNull();
    expect(verifyHint(KEY, 'demo', v.replace('v1.new.', 'v1.legacy.'), NOW)).toBeNull();
  });

  it('reads the cookie; two copies (cookie tossing) → none', () => {
    expect(readHintCookie(`a=1; ${HINT_COOKIE}=xyz; b=2`)).toBe('xyz');
    expect(readHintCookie(`${HINT_COOKIE}=a; ${HINT_COOKIE}=b`)).toBeNull();
    expect(readHintCookie(undefined)).toBeNull();
  });
});
