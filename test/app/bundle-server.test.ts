// A bundle server (node:http on 127.0.0.1) polled by the real App: the first bundle makes the service
// ready; an ETag change swaps in the next one (decisions and revision change); a corrupt download and
// one whose signature does not verify are each KEPT OUT — decisions go on with the last good bundle,
// and /readyz, the metrics and the decision log say which revision is in use and what failed. Before
// the first bundle the service is not ready and every check is denied authz_unavailable.
import { startHarness, httpRequest } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { startBundleServer } from '../policy/bundle/bundle-server';
import type { TestBundleServer } from '../policy/bundle/bundle-server';
import { signedBundle } from '../policy/bundle/signed-bundle';
import { waitFor as waitUntil } from '../support/wait';

const SECRET = 'bundle-signing-secret-for-this-test-only';
const WRONG = 'some-other-secret-entirely-wrong-value';
const verification = { keys: { default: { key: SECRET, algorithm: 'HS256' } }, keyId: 'default' };

/** A signed bundle whose callback policy denies everything with `reason` (a valid reason code). */
function bundle(revision: string, reason: string, key = SECRET): Promise<Buffer> {
  return signedBundle(
    { 'authz/p.rego': `package callback\n\ndecision := {"action": "deny", "reasons": ["${reason}"]}\n`, '.manifest': `{"revision":"${revision}"}` },
    { key: Buffer.from(key), alg: 'HS256' },
  );
}

const waitFor = (what: string, pred: () => boolean | Promise<boolean>): Promise<void> => waitUntil(pred, 10_000, what, 25);

const reasonOf = async (h: Harness): Promise<string | null> => (await h.ask('grpc', { path: '/login' })).reason;
const admin = (h: Harness, p: string) => httpRequest(h.adminPort, 'GET', p, {});

describe('bundle server polling through the App', () => {
  let server: TestBundleServer;
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    server = await startBundleServer();
    url = `${server.url}/bundles/authz.tar.gz`;
  });
  afterAll(async () => {
    await h?.close();
    await server.close();
  });

  test('not ready and denying authz_unavailable until the first bundle arrives', async () => {
    server.publish({ body: Buffer.from('no bundle yet'), etag: '', status: 404 });
    h = await startHarness({ policyDir: url, bundleToken: 'bundle-reader-token', verification, bundlePolling: { minDelaySeconds: 0.05, maxDelaySeconds: 0.1 }, bundleWaitMs: 300 });
    expect(h.app.readiness.ready).toBe(false);
    const r = await admin(h, '/readyz?verbose');
    expect(r.status).toBe(503);
    expect(r.body).toContain(`not ready: bundle ${url}: not activated (bundle_http_status)`);
    expect(r.body).toContain(`[-] bundle ${url} revision=(none)`);
    expect(r.body).toContain('error=bundle_http_status: bundle server replied with HTTP 404');
    expect(await h.ask('grpc', { path: '/login' })).toMatchObject({ allowed: false, reason: 'authz_unavailable' });
    // Every download carried the bearer token.
    expect(server.requests.length).toBeGreaterThan(0);
    for (const q of server.requests) expect(q.headers.authorization).toBe('Bearer bundle-reader-token');
  });

  test('the first bundle makes it ready; an ETag change swaps in the next', async () => {
    server.publish({ body: await bundle('r1', 'stage_unknown'), etag: '"e1"' });
    await waitFor('ready', () => h.app.readiness.ready);
    expect(h.app.current!.engine.revision).toBe('r1');
    expect(await reasonOf(h)).toBe('stage_unknown');
    // Unchanged: the next polls send If-None-Match and get 304s; the revision stays.
    const before = server.requests.length;
    await waitFor('a conditional poll', () => server.requests.slice(before).some((q) => q.headers['if-none-match'] === '"e1"'));

    server.publish({ body: await bundle('r2', 'policy_undefined'), etag: '"e2"' });
    await waitFor('r2 in use', () => h.app.current!.engine.revision === 'r2');
    expect(await reasonOf(h)).toBe('policy_undefined');
    const ev = JSON.parse(h.decisionLines[h.decisionLines.length - 1]) as { bundles: unknown };
    expect(ev.bundles).toEqual({ [url]: { revision: 'r2' } });
  });

  test('a corrupt download is kept out: decisions continue on the last good bundle, the status says why', async () => {
    server.publish({ body: Buffer.from('\x1f\x8bcorrupt gzip body'), etag: '"e3"' });
    await waitFor('the failure recorded', () => h.app.current!.bundles()[0].lastError?.code === 'bundle_archive_invalid');
    expect(h.app.current!.engine.revision).toBe('r2');
    expect(await reasonOf(h)).toBe('policy_undefined');
    expect(h.app.readiness.ready).toBe(true); // the last good bundle still serves (OPA stays ready too)
    const r = await admin(h, '/readyz?verbose');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(new RegExp(`\\[\\+\\] bundle ${url.replace(/[.]/g, '\\.')} revision="r2" .*error=bundle_archive_invalid: `));
    const m = (await admin(h, '/metrics')).body;
    expect(m).toMatch(new RegExp(`callback_proxy_bundle_info\\{name="${url.replace(/[.]/g, '\\.')}",revision="r2",state="error",error="bundle_archive_invalid"\\} 1`));
    expect(m).toMatch(/callback_proxy_bundle_consecutive_errors\{name="[^"]+"\} [1-9]/);
    expect(m).toMatch(/callback_proxy_bundle_last_failure_timestamp_seconds\{name="[^"]+"\} \d/);
  });

  test('a download that fails verification is kept out the same way', async () => {
    server.publish({ body: await bundle('r3-forged', 'stage_unknown', WRONG), etag: '"e4"' });
    await waitFor('the failure recorded', () => h.app.current!.bundles()[0].lastError?.code === 'bundle_signature_invalid');
    expect(h.app.current!.engine.revision).toBe('r2');
    expect(await reasonOf(h)).toBe('policy_undefined');
    expect(h.logs.join('')).toContain('"error_code":"bundle_signature_invalid"');

    // A good bundle after the failures clears the error.
    server.publish({ body: await bundle('r4', 'stage_unknown'), etag: '"e5"' });
    await waitFor('r4 in use', () => h.app.current!.engine.revision === 'r4');
    expect(await reasonOf(h)).toBe('stage_unknown');
    const m = (await admin(h, '/metrics')).body;
    expect(m).toMatch(/callback_proxy_bundle_info\{name="[^"]+",revision="r4",state="active",error=""\} 1/);
    // Secrets never reach the admin listener's answers or the logs.
    for (const text of [m, (await admin(h, '/readyz?verbose')).body, h.logs.join('')]) {
      expect(text).not.toContain('bundle-reader-token');
      expect(text).not.toContain(SECRET);
    }
  });
});
