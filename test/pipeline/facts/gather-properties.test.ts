// Properties of the facts phase: it never throws, never matches a route through an encoding trick,
// and never lets a raw state/code value into the callback facts (docs/threat-model.md §6, §10).
import fc from 'fast-check';
import { gatherFacts } from '../../../ext-authz/src/pipeline/facts/gather';
import { parseForm } from '../../../ext-authz/src/pipeline/facts/params';
import { fixture, get, NOW } from './fixtures';

const { deps } = fixture();
const pathChars = fc.constantFrom('/', 'a', 'o', 'c', '%', '2', 'F', '5', 'C', ';', '.', '~', '0', 'E', '\u00e9', '\u0000', '?', '=', '&', '#', 'A');
const pathArb = fc.oneof(
  fc.array(pathChars, { maxLength: 40 }).map((a) => a.join('')),
  fc.array(pathChars, { maxLength: 12 }).map((a) => `/oauth2/callback${a.join('')}`),
);

describe('gatherFacts properties', () => {
  it('never throws and a matched route is always the exact raw path', async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, fc.string({ maxLength: 30 }), async (path, host) => {
        const f = await gatherFacts(get(path, { host: host.length % 3 === 0 ? 'auth.example.com' : host }), deps, NOW);
        if (f.input.callback.route !== null) {
          const raw = path.split('?')[0].split('#')[0];
          expect(raw).toBe(f.input.callback.route);
        }
        if (f.connection === null) expect(f.input.callback.violations.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });

  it('callback facts never contain the raw state or code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/), fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/), async (state, code) => {
        const f = await gatherFacts(get(`/oauth2/callback?code=${code}&state=${state}`), deps, NOW);
        const facts = JSON.stringify({ callback: f.input.callback, pin: f.input.pin, migration: f.input.migration, flow: f.flowKeyHash });
        expect(facts).not.toContain(state);
        expect(facts).not.toContain(code);
      }),
      { numRuns: 100 },
    );
  });
});

describe('parseForm properties', () => {
  it('round-trips encodeURIComponent pairs and never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 10 }), (pairs) => {
        const q = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const p = parseForm(q, 100);
        // Lone surrogates cannot be encoded as UTF-8: encodeURIComponent throws before us, so only valid strings arrive.
        expect(p.malformed).toBe(false);
        // Names are kept as sent when they carry an escape (T-Q5), decoded otherwise.
        for (const [k, v] of pairs) {
          const sent = encodeURIComponent(k);
          expect(p.values.get(sent.includes('%') ? sent : k)).toContain(v);
        }
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
      parseForm(s, 20);
    }));
  });
});
