// End to end through real nginx: attacks on a real login (docs/threat-model.md §1 mix-up, §2/§3 replay, §5 routing
// header spoofing) and the secrets rule (T-L1): no code or state value in nginx's or ext-authz's logs.
import { LEGACY_ISSUER, NEW_ISSUER, nginxAvailability, startStack } from '../../demo/harness';
import type { Stack } from '../../demo/harness';
import { callbackHop, holdLogin, secretsOf, send } from './flows';

const run = nginxAvailability() === 'run' ? describe : describe.skip;

run('e2e through nginx: attacks on a login', () => {
  let stack: Stack;
  const secrets: string[] = [];
  beforeAll(async () => {
    stack = await startStack({ stage: 'observe', nginx: true, front: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const hold = async (user: string) => {
    const h = await holdLogin(stack, user);
    secrets.push(...secretsOf(h.callback));
    return h;
  };

  test('mix-up: a legacy flow answered with the new issuer in iss is denied before any backend', async () => {
    const h = await hold('mixup-user');
    expect(h.startedOn).toBe('legacy');
    const url = new URL(h.callback.url);
    expect(url.searchParams.get('iss')).toBe(LEGACY_ISSUER);
    url.searchParams.set('iss', NEW_ISSUER);
    const seen = stack.legacy.stats.logins_ok + stack.neu.stats.logins_ok;
    const r = await h.browser.resume({ method: 'GET', url: url.toString() });
    expect(r.status).toBe(403);
    expect(callbackHop(r).reason).toBe('issuer_mismatch');
    expect(callbackHop(r).servedBy).toBeUndefined();
    expect(stack.legacy.stats.logins_ok + stack.neu.stats.logins_ok).toBe(seen);
  });

  test('a replayed callback is denied and never reaches the backend', async () => {
    const h = await hold('replay-user');
    const first = await h.deliver();
    expect(first.json).toMatchObject({ ok: true, backend: 'legacy' });
    const ok = stack.legacy.stats.logins_ok;
    const again = await h.deliver();
    expect(again.status).toBe(403);
    // One-time pin and one-time code: whichever the facts see first names the replay.
    expect(['state_replayed', 'code_replayed']).toContain(callbackHop(again).reason);
    expect(callbackHop(again).servedBy).toBeUndefined();
    expect(stack.legacy.stats.logins_ok).toBe(ok);
  });

  test('a client-sent X-Callback-Backend: new on a legacy flow is ignored (served by legacy)', async () => {
    const h = await hold('spoof-user');
    const r = await h.deliver({ 'X-Callback-Backend': 'new' });
    expect(r.json).toMatchObject({ ok: true, backend: 'legacy' });
    expect(callbackHop(r).servedBy).toBe('legacy');
    // Also at login start: the stage decides, not the header.
    const start = await send(stack, 'nginx', 'GET', '/login?login_hint=spoof-raw', { 'X-Callback-Backend': 'new' });
    expect(start.headers['x-served-by']).toBe('legacy');
  });

  test('a forged state and an unknown host are denied by nginx with a generic body', async () => {
    const forged = await send(stack, 'nginx', 'GET', `/oauth2/callback?code=CANARYCODE123&state=CANARYSTATE&iss=${encodeURIComponent(LEGACY_ISSUER)}`);
    secrets.push('CANARYCODE123', 'CANARYSTATE');
    expect(forged.status).toBe(403);
    expect(forged.headers['x-callback-reason']).toBe('state_unknown');
    expect(forged.body).toBe('{"error":"request_denied"}');
    const evil = await send(stack, 'nginx', 'GET', '/oauth2/callback?code=x&state=y', { host: 'evil.example.com' });
    expect(evil.status).toBe(403);
    expect(evil.headers['x-callback-reason']).toBe('host_not_allowed');
    const traversal = await send(stack, 'nginx', 'GET', '/oauth2/callback%2F..%2Fadmin');
    expect(traversal.status).toBe(403);
    expect(traversal.headers['x-served-by']).toBeUndefined();
  });

  test('no code or state value appears in nginx access/error logs, ext-authz logs or decision logs (T-L1)', async () => {
    const h = await hold('leak-user');
    await h.deliver();
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    const nginx = stack.nginx!;
    const haystacks: [string, string][] = [
      ['nginx access log', nginx.accessLog()],
      ['nginx error log', nginx.errorLog()],
      ['ext-authz log', stack.logs.join('')],
      ['decision log', stack.decisionLines.join('\n')],
    ];
    expect(nginx.accessLog().length).toBeGreaterThan(0);
    expect(stack.decisionLines.length).toBeGreaterThan(0);
    for (const [name, text] of haystacks) {
      for (const s of secrets) {
        // Raw and URL-encoded forms both count.
        if (text.includes(s) || text.includes(encodeURIComponent(s))) throw new Error(`${name} contains a secret value of length ${s.length}`);
      }
    }
  });
});
