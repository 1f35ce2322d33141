// Polling a bundle server, OPA's way, against a real node:http(s) server on 127.0.0.1: a bundle is
// picked up, an ETag change brings the new one, 304 keeps it, a corrupt / unverifiable / unactivatable
// download keeps the last good one and records the error, long polling re-asks at once, delays and
// backoff stay within bounds, and the credentials (bearer, token file, mTLS, OAuth2) reach the server.
// Timers and randomness are injected; nothing sleeps.
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { OpaServiceClient } from '../../../ext-authz/src/config/opa-service-client';
import type { OpaServiceConfig } from '../../../ext-authz/src/config/opa-config';
import { HttpBundleSource, backoffDelayMs, decisionLogBundles, bundlesReady } from '../../../ext-authz/src/policy/bundle/index';
import type { HttpBundleSourceOptions, LoadedBundle, Timers } from '../../../ext-authz/src/policy/bundle/index';
import { describeWithOpenssl, makePki } from '../../support/pki';
import { tarGz } from '../../support/tar-gz';
import { startBundleServer } from './bundle-server';
import type { TestBundleServer } from './bundle-server';
import { signedBundle } from './signed-bundle';

const bundleV = (rev: string, extra = ''): Buffer =>
  tarGz({ '.manifest': JSON.stringify({ revision: rev }), 'p.rego': `package p\nrev := "${rev}"\n${extra}`, 'data.json': `{"rev":"${rev}"}` });

function service(url: string, over: Partial<OpaServiceConfig> = {}): OpaServiceConfig {
  return { name: 'svc', url, headers: {}, responseHeaderTimeoutSeconds: 5, tls: {}, allowInsecureTls: false, credentials: {}, ...over };
}

interface Harness {
  source: HttpBundleSource;
  activated: LoadedBundle[];
  client: OpaServiceClient;
}

function harness(server: TestBundleServer, over: Partial<HttpBundleSourceOptions> = {}, svc: Partial<OpaServiceConfig> = {}): Harness {
  const activated: LoadedBundle[] = [];
  const client = new OpaServiceClient(service(server.url, svc));
  const source = new HttpBundleSource({
    name: 'authz',
    client,
    resource: 'bundles/authz.tar.gz',
    polling: { minDelaySeconds: 10, maxDelaySeconds: 20 },
    activate: (b) => void activated.push(b),
    random: () => 0.5,
    ...over,
  });
  return { source, activated, client };
}

describe('downloads', () => {
  let server: TestBundleServer;
  let h: Harness;
  beforeEach(async () => {
    server = await startBundleServer();
    h = harness(server);
  });
  afterEach(async () => {
    await h.source.stop();
    h.client.close();
    await server.close();
  });

  test('picked up, kept on 304, replaced on an ETag change, kept when the next download is corrupt', async () => {
    server.publish({ body: bundleV('r1'), etag: '"e1"' });
    expect(await h.source.pollOnce()).toEqual({ kind: 'activated', revision: 'r1', etag: '"e1"' });
    expect(h.activated.map((b) => b.revision)).toEqual(['r1']);
    expect(h.source.current()!.data).toEqual({ rev: 'r1' });
    expect(server.requests[0].path).toBe('/bundles/authz.tar.gz');
    expect(server.requests[0].headers['if-none-match']).toBeUndefined();
    expect(server.requests[0].headers.prefer).toBe('modes=snapshot');

    expect(await h.source.pollOnce()).toEqual({ kind: 'not_modified' });
    expect(server.requests[1].headers['if-none-match']).toBe('"e1"');
    expect(h.activated).toHaveLength(1);

    server.publish({ body: bundleV('r2'), etag: '"e2"' });
    expect(await h.source.pollOnce()).toMatchObject({ kind: 'activated', revision: 'r2' });
    expect(h.source.current()!.etag).toBe('"e2"');

    server.publish({ body: Buffer.from('this is not a tarball'), etag: '"e3"' });
    const bad = await h.source.pollOnce();
    expect(bad).toMatchObject({ kind: 'error', error: { code: 'bundle_archive_invalid' } });
    expect(h.source.current()!.revision).toBe('r2');
    const st = h.source.status();
    expect(st).toMatchObject({ name: 'authz', activeRevision: 'r2', consecutiveErrors: 1, lastError: { code: 'bundle_archive_invalid' } });
    expect(st.lastSuccessfulDownload).not.toBeNull();
    expect(st.lastSuccessfulActivation).not.toBeNull();
    // After an error the ETag is forgotten (as in OPA), so the next request fetches the bundle again.
    await h.source.pollOnce();
    expect(server.requests[server.requests.length - 1].headers['if-none-match']).toBeUndefined();

    server.publish({ body: bundleV('r4'), etag: '"e4"' });
    await h.source.pollOnce();
    expect(h.source.status()).toMatchObject({ activeRevision: 'r4', lastError: null, consecutiveErrors: 0 });
    expect(decisionLogBundles([h.source.status()])).toEqual({ authz: { revision: 'r4' } });
  });

  test('HTTP errors and a refused activation keep the last good bundle', async () => {
    server.publish({ body: bundleV('good'), etag: '"g"' });
    await h.source.pollOnce();
    server.publish({ body: Buffer.from('oops'), etag: '', status: 500 });
    expect(await h.source.pollOnce()).toMatchObject({ kind: 'error', error: { code: 'bundle_http_status', message: 'bundle server replied with HTTP 500' } });
    expect(h.source.current()!.revision).toBe('good');

    const refusing = harness(server, {
      activate: (b) => {
        if (b.revision === 'broken') throw Object.assign(new Error('compile failed'), { code: 'policy_compile_error' });
      },
    });
    server.publish({ body: bundleV('fine'), etag: '"f"' });
    await refusing.source.pollOnce();
    server.publish({ body: bundleV('broken'), etag: '"b"' });
    const out = await refusing.source.pollOnce();
    expect(out).toMatchObject({ kind: 'error', error: { code: 'bundle_activation_failed' } });
    expect(refusing.source.current()!.revision).toBe('fine');
    expect(refusing.source.status().activeRevision).toBe('fine');
    refusing.client.close();
  });

  test('an unreachable server is bundle_download_failed; readiness waits for a first activation', async () => {
    const dead = await startBundleServer();
    const url = dead.url;
    await dead.close();
    const h2 = harness({ ...server, url } as TestBundleServer);
    const out = await h2.source.pollOnce();
    expect(out).toMatchObject({ kind: 'error', error: { code: 'bundle_download_failed' } });
    expect(bundlesReady([h2.source.status()])).toBe(false);
    h2.client.close();
  });

  test('a download that does not verify keeps the last verified bundle', async () => {
    const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = good.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verifying = harness(server, { read: { verification: { keys: { k: { key: pub } }, keyId: 'k' } } });
    const files = { 'p.rego': 'package p\n', '.manifest': '{"revision":"s1"}' };
    server.publish({ body: await signedBundle(files, { key: good.privateKey }), etag: '"s1"' });
    expect(await verifying.source.pollOnce()).toMatchObject({ kind: 'activated', revision: 's1' });
    server.publish({ body: await signedBundle({ ...files, '.manifest': '{"revision":"s2"}' }, { key: other.privateKey }), etag: '"s2"' });
    expect(await verifying.source.pollOnce()).toMatchObject({ kind: 'error', error: { code: 'bundle_signature_invalid' } });
    expect(verifying.source.current()!.revision).toBe('s1');
    expect(verifying.source.current()!.signed).toBe(true);
    verifying.client.close();
  });

  test('a bundle over the size limit is refused without being kept', async () => {
    const limited = harness(server, { read: { limits: { maxTotalBytes: 64 * 1024 } } });
    server.publish({ body: tarGz({ 'big.rego': `package big\n#${'x'.repeat(200_000)}\n` }), etag: '"big"' });
    const out = await limited.source.pollOnce();
    expect(out.kind).toBe('error');
    expect(limited.source.current()).toBeNull();
    limited.client.close();
  });
});

describe('long polling', () => {
  test('after the server shows support, the next request waits on the server and gets the update at once', async () => {
    const server = await startBundleServer({ longPoll: true });
    const h = harness(server, { polling: { minDelaySeconds: 10, maxDelaySeconds: 20, longPollingTimeoutSeconds: 5 } });
    try {
      server.publish({ body: bundleV('lp1'), etag: '"l1"' });
      const first = await h.source.pollOnce();
      expect(first.kind).toBe('activated');
      expect(server.requests[0].headers.prefer).toBe('modes=snapshot;wait=5');
      expect(h.source.longPolling).toBe(true);
      expect(h.source.nextDelayMs(first)).toBe(0);

      const pending = h.source.pollOnce(); // held by the server until the next publish
      for (let i = 0; i < 500 && server.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(server.requests).toHaveLength(2);
      expect(server.requests[1].headers['if-none-match']).toBe('"l1"');
      server.publish({ body: bundleV('lp2'), etag: '"l2"' });
      expect(await pending).toMatchObject({ kind: 'activated', revision: 'lp2' });
    } finally {
      await h.source.stop();
      h.client.close();
      await server.close();
    }
  });

  test('a server that does not answer with the bundle media type turns long polling off', async () => {
    const server = await startBundleServer();
    const h = harness(server, { polling: { minDelaySeconds: 10, maxDelaySeconds: 20, longPollingTimeoutSeconds: 5 } });
    try {
      server.publish({ body: bundleV('x'), etag: '"x"' });
      const out = await h.source.pollOnce();
      expect(h.source.longPolling).toBe(false);
      expect(h.source.nextDelayMs(out)).toBe(15_000);
      await h.source.pollOnce();
      expect(server.requests[1].headers.prefer).toBe('modes=snapshot');
    } finally {
      h.client.close();
      await server.close();
    }
  });
});

describe('delays', () => {
  test('success: uniformly between min and max delay', () => {
    for (const [r, want] of [[0, 10_000], [0.5, 15_000], [0.999, 19_990]] as const) {
      const src = new HttpBundleSource({ name: 'n', client: { headerTimeoutMs: null, request: async () => ({ status: 304, headers: {}, body: Buffer.alloc(0) }) }, resource: 'r', polling: { minDelaySeconds: 10, maxDelaySeconds: 20 }, activate: () => undefined, random: () => r });
      expect(Math.round(src.nextDelayMs({ kind: 'not_modified' }))).toBe(want);
    }
  });

  test('errors: OPA\'s exponential backoff (0, 160, 256, 409.6 ms ...) capped at max_delay_seconds', () => {
    const mid = (): number => 0.5; // no jitter
    expect([0, 1, 2, 3].map((n) => Math.round(backoffDelayMs(n, 120_000, mid) * 10) / 10)).toEqual([0, 160, 256, 409.6]);
    expect(backoffDelayMs(60, 120_000, mid)).toBe(120_000);
  });

  test('backoff is bounded for any retry count and any random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 3600 }), (retry, r, maxS) => {
        const d = backoffDelayMs(retry, maxS * 1000, () => r);
        return d >= 0 && d <= maxS * 1000 * 1.2 + 1e-6;
      }),
    );
  });

  test('the polling loop schedules with those delays and stops cleanly (manual timers)', async () => {
    const scheduled: { fn: () => void; ms: number }[] = [];
    const timers: Timers = { setTimeout: (fn, ms) => scheduled.push({ fn, ms }), clearTimeout: () => undefined };
    const answers = [500, 500, 304];
    let calls = 0;
    const src = new HttpBundleSource({
      name: 'loop',
      client: { headerTimeoutMs: null, request: async () => ({ status: answers[calls++] ?? 304, headers: {}, body: Buffer.alloc(0) }) },
      resource: 'r',
      polling: { minDelaySeconds: 10, maxDelaySeconds: 20 },
      activate: () => undefined,
      timers,
      random: () => 0.5,
    });
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    src.start();
    await settle();
    expect(calls).toBe(1);
    expect(scheduled.map((s) => s.ms)).toEqual([0]); // first retry at once, as in OPA
    scheduled[0].fn();
    await settle();
    expect(Math.round(scheduled[1].ms)).toBe(160);
    scheduled[1].fn();
    await settle();
    expect(scheduled[2].ms).toBe(15_000); // success → polling delay, retry count reset
    await src.stop();
    scheduled[2].fn();
    await settle();
    expect(calls).toBe(3);
  });
});

describe('credentials', () => {
  let server: TestBundleServer;
  let dir: string;
  beforeAll(async () => {
    server = await startBundleServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-bundle-cred-'));
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('bearer token and configured headers reach the server; a token file is re-read on every request', async () => {
    server.publish({ body: bundleV('t'), etag: '"t"' });
    const inline = harness(server, {}, { credentials: { bearer: { token: 'tok-inline', scheme: 'Bearer' } }, headers: { 'x-team': 'iam' } });
    await inline.source.pollOnce();
    const seen = server.requests[server.requests.length - 1].headers;
    expect(seen.authorization).toBe('Bearer tok-inline');
    expect(seen['x-team']).toBe('iam');
    inline.client.close();

    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'first\n');
    const fromFile = harness(server, {}, { credentials: { bearer: { tokenPath: file, scheme: 'Token' } } });
    await fromFile.source.pollOnce();
    expect(server.requests[server.requests.length - 1].headers.authorization).toBe('Token first');
    fs.writeFileSync(file, 'second');
    await fromFile.source.pollOnce();
    expect(server.requests[server.requests.length - 1].headers.authorization).toBe('Token second');
    fromFile.client.close();
  });

  test('a 401 is recorded without the token in the status', async () => {
    server.publish({ body: Buffer.from('no'), etag: '', status: 401 });
    const h = harness(server, {}, { credentials: { bearer: { token: 'very-secret-token', scheme: 'Bearer' } } });
    await h.source.pollOnce();
    expect(h.source.status().lastError!.code).toBe('bundle_http_status');
    expect(JSON.stringify(h.source.status())).not.toContain('very-secret-token');
    h.client.close();
  });
});

describeWithOpenssl('bundle download over TLS')('TLS, mTLS and OAuth2 client credentials', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let server: TestBundleServer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-bundle-tls-'));
    pki = makePki(dir);
    server = await startBundleServer({
      tls: { cert: fs.readFileSync(pki.serverCert), key: fs.readFileSync(pki.serverKey), ca: fs.readFileSync(pki.ca), requestCert: true, rejectUnauthorized: false },
    });
    server.publish({ body: bundleV('tls'), etag: '"tls"' });
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the service CA is trusted; an unknown CA is refused', async () => {
    const trusted = harness(server, {}, { tls: { caCert: pki.ca } });
    expect(await trusted.source.pollOnce()).toMatchObject({ kind: 'activated', revision: 'tls' });
    trusted.client.close();
    const untrusted = harness(server);
    expect(await untrusted.source.pollOnce()).toMatchObject({ kind: 'error', error: { code: 'bundle_download_failed' } });
    untrusted.client.close();
  });

  test('the client certificate is presented (mTLS)', async () => {
    const mtls = harness(server, {}, { tls: { caCert: pki.ca }, credentials: { clientTls: { cert: pki.clientCert, privateKey: pki.clientKey } } });
    let peerCn = '';
    server.routes['/bundles/mtls.tar.gz'] = (req, _b, res) => {
      const sock = req.socket as import('node:tls').TLSSocket;
      peerCn = sock.authorized ? String(sock.getPeerCertificate().subject.CN) : 'unauthorized';
      res.writeHead(200, { etag: '"m"' }).end(bundleV('mtls'));
    };
    const src = new HttpBundleSource({ name: 'm', client: mtls.client, resource: 'bundles/mtls.tar.gz', polling: { minDelaySeconds: 1, maxDelaySeconds: 2 }, activate: () => undefined });
    expect(await src.pollOnce()).toMatchObject({ kind: 'activated', revision: 'mtls' });
    expect(peerCn).toBe('client');
    mtls.client.close();
  });

  test('OAuth2 client credentials: token fetched with HTTP Basic and scopes, cached, sent as Bearer', async () => {
    const tokenRequests: { auth: string; body: string }[] = [];
    server.routes['/oauth/token'] = (req, body, res) => {
      tokenRequests.push({ auth: String(req.headers.authorization), body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 }));
    };
    const h = harness(server, {}, {
      tls: { caCert: pki.ca },
      credentials: { oauth2: { tokenUrl: `${server.url}/oauth/token`, clientId: 'opa', clientSecret: 'cs', scopes: ['read', 'bundles'], additionalHeaders: {}, additionalParameters: { audience: 'bundle-api' } } },
    });
    server.publish({ body: bundleV('o1'), etag: '"o1"' });
    await h.source.pollOnce();
    await h.source.pollOnce();
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0].auth).toBe(`Basic ${Buffer.from('opa:cs').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(tokenRequests[0].body))).toEqual({ grant_type: 'client_credentials', scope: 'read bundles', audience: 'bundle-api' });
    const bundleReqs = server.requests.filter((r) => r.path === '/bundles/authz.tar.gz');
    expect(bundleReqs.slice(-2).map((r) => r.headers.authorization)).toEqual(['Bearer at-1', 'Bearer at-1']);
    h.client.close();
  });

  test('a failing token endpoint is a download error that names no secret', async () => {
    server.routes['/oauth/broken'] = (_req, _b, res) => void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_client","secret":"cs-2"}');
    const h = harness(server, {}, {
      tls: { caCert: pki.ca },
      credentials: { oauth2: { tokenUrl: `${server.url}/oauth/broken`, clientId: 'opa', clientSecret: 'cs-2', scopes: [], additionalHeaders: {}, additionalParameters: {} } },
    });
    const out = await h.source.pollOnce();
    expect(out).toMatchObject({ kind: 'error', error: { code: 'bundle_download_failed' } });
    expect(JSON.stringify(h.source.status())).not.toContain('cs-2');
    h.client.close();
  });
});
