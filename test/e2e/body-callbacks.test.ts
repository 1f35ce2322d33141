// Callbacks decided on their body: OIDC form_post, SAML POST and Standard Webhooks. nginx auth_request
// never passes the body, so these run end to end through an Envoy stand-in (demo/front-proxy.ts) that
// asks ext-authz over gRPC (CheckRequest with `body`, as Envoy's ext_authz filter does with
// with_request_body) or over Envoy's http_service contract (body forwarded); through nginx the same
// requests must be denied (fail closed), never allowed.
import { findNginx } from '../../demo/nginx';
import { nginxAvailability, signWebhook, startStack } from '../../demo/harness';
import type { Stack } from '../../demo/harness';
import { callbackHop, holdLogin, login, secretsOf, send, servedBy } from './flows';

describe.each([['grpc' as const], ['http' as const]])('e2e through the %s authz path: form_post, SAML POST, webhooks', (transport) => {
  let stack: Stack;
  const secrets: string[] = [];
  beforeAll(async () => {
    // nginx is only needed for the fail-closed checks below; they skip (loudly) without it.
    stack = await startStack({ stage: 'observe', front: transport, nginx: transport === 'grpc' && findNginx() !== null });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('form_post login: started on legacy, POSTed callback decided on its body, served by legacy', async () => {
    await stack.setStage('observe');
    const { result } = await login(stack, 'fp-user', { via: 'front', mode: 'form_post' });
    expect(result.json).toMatchObject({ ok: true, backend: 'legacy' });
    expect(callbackHop(result).method).toBe('POST');
    expect(servedBy(result)).toEqual(['legacy', 'legacy']);
  });

  test('SAML POST login on new at canary 100 %, and a held one finishing on new after rollback', async () => {
    await stack.setStage('canary', { percent: 100 });
    const { result } = await login(stack, 'saml-user', { via: 'front', mode: 'saml' });
    expect(result.json).toMatchObject({ ok: true, backend: 'new', protocol: 'saml' });
    expect(servedBy(result)).toEqual(['new', 'new']);
    const held = await holdLogin(stack, 'saml-held', { via: 'front', mode: 'saml' });
    secrets.push(...secretsOf(held.callback));
    await stack.setStage('rollback', { drainUntil: Date.now() + 60_000 });
    const r = await held.deliver();
    expect(r.json).toMatchObject({ ok: true, backend: 'new', protocol: 'saml' });
    expect(callbackHop(r).servedBy).toBe('new');
  });

  test('a held form_post flow replayed and a mixed-up SAML Issuer are denied', async () => {
    await stack.setStage('observe', { drainUntil: null });
    const fp = await holdLogin(stack, 'fp-replay', { via: 'front', mode: 'form_post' });
    secrets.push(...secretsOf(fp.callback));
    expect((await fp.deliver()).json).toMatchObject({ ok: true, backend: 'legacy' });
    const again = await fp.deliver();
    expect(again.status).toBe(403);
    expect(['state_replayed', 'code_replayed']).toContain(callbackHop(again).reason);
    // SAML: a RelayState pinned to legacy carrying a response whose Issuer is the new IdP (T-M7).
    const saml = await holdLogin(stack, 'saml-mixup', { via: 'front', mode: 'saml' });
    const form = new URLSearchParams(saml.callback.body);
    const xml = Buffer.from(form.get('SAMLResponse') ?? '', 'base64').toString('utf8').replaceAll('https://legacy-idp.example.com', 'https://new-idp.example.com');
    form.set('SAMLResponse', Buffer.from(xml).toString('base64'));
    const r = await saml.browser.resume({ ...saml.callback, body: form.toString() });
    expect(r.status).toBe(403);
    expect(callbackHop(r).reason).toBe('issuer_mismatch');
  });

  test('a Standard Webhooks message reaches the stage backend; a tampered one is denied', async () => {
    const body = JSON.stringify({ type: 'user.updated', data: { id: 'u_1' } });
    await stack.setStage('observe');
    const h1 = signWebhook(stack.webhookSecret, body);
    const ok1 = await send(stack, 'front', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...h1 }, body);
    expect(ok1.status).toBe(200);
    expect(ok1.headers['x-served-by']).toBe('legacy');
    await stack.setStage('cutover', { drainUntil: Date.now() + 60_000 });
    const h2 = signWebhook(stack.webhookSecret, body);
    const ok2 = await send(stack, 'front', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...h2 }, body);
    expect(ok2.status).toBe(200);
    expect(ok2.headers['x-served-by']).toBe('new');
    const h3 = signWebhook(stack.webhookSecret, body);
    const tampered = await send(stack, 'front', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...h3 }, body.replace('u_1', 'u_2'));
    expect(tampered.status).toBe(403);
    expect(tampered.headers['x-callback-reason']).toBe('bad_signature');
    expect(tampered.headers['x-served-by']).toBeUndefined();
    const replay = await send(stack, 'front', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...h2 }, body);
    expect(replay.status).toBe(403);
    expect(replay.headers['x-callback-reason']).toBe('webhook_replay');
  });

  test('webhooks whose body is not valid UTF-8, or not NFC, verify over their exact bytes; a one-byte change fails', async () => {
    await stack.setStage('observe', { drainUntil: null });
    const notNfc = Buffer.from('{"name":"Ame\u0301lie"}', 'utf8');
    const notUtf8 = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0x41, 0xe9, 0x80, 0xff]), Buffer.from('"}')]);
    for (const body of [notNfc, notUtf8]) {
      const ok = await send(stack, 'front', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...signWebhook(stack.webhookSecret, body) }, body);
      expect(ok.status).toBe(200);
      expect(ok.headers['x-served-by']).toBe('legacy');
      const changed = Buffer.from(body);
      changed[changed.length - 3] ^= 0x01;
      const bad = await send(stack, 'front', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...signWebhook(stack.webhookSecret, body) }, changed);
      expect(bad.status).toBe(403);
      expect(bad.headers['x-callback-reason']).toBe('bad_signature');
    }
  });

  // Once (in the gRPC pass): the same body callbacks through nginx.
  const viaNginx = transport !== 'grpc' ? null : nginxAvailability() === 'run' ? test : test.skip;

  viaNginx?.('through nginx (no body in auth_request) a form_post callback and a signed webhook are denied, not allowed', async () => {
    await stack.setStage('observe', { drainUntil: null });
    // The login starts fine through nginx; the POSTed callback arrives at ext-authz without its body.
    const fp = await holdLogin(stack, 'fp-nginx', { via: 'nginx', mode: 'form_post' });
    secrets.push(...secretsOf(fp.callback));
    expect(fp.startedOn).toBe('legacy');
    const r = await fp.deliver();
    expect(r.status).toBe(403);
    expect(callbackHop(r).reason).toBe('state_missing');
    expect(callbackHop(r).servedBy).toBeUndefined();
    const saml = await holdLogin(stack, 'saml-nginx', { via: 'nginx', mode: 'saml' });
    const rs = await saml.deliver();
    expect(rs.status).toBe(403);
    expect(callbackHop(rs).servedBy).toBeUndefined();
    const body = JSON.stringify({ type: 'user.updated' });
    const hook = await send(stack, 'nginx', 'POST', '/webhooks/idp', { 'content-type': 'application/json', ...signWebhook(stack.webhookSecret, body) }, body);
    expect(hook.status).toBe(403);
    expect(hook.headers['x-callback-reason']).toBe('bad_signature');
  });

  test('no form_post / SAML secret reaches a log', () => {
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const text = [stack.logs.join(''), stack.decisionLines.join('\n'), stack.nginx?.accessLog() ?? '', stack.nginx?.errorLog() ?? ''].join('\n');
    for (const s of secrets) if (text.includes(s) || text.includes(encodeURIComponent(s))) throw new Error(`a log holds a secret of length ${s.length}`);
  });
});
