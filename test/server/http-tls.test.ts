// TLS and mTLS on the HTTP listener (--http-tls-cert/--http-tls-key/--http-tls-ca): Pin API bearer
// tokens travel on it. Certificates are made in the test (test/support/pki.ts, openssl); the real App
// and the real CLI, real https clients on 127.0.0.1.
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { App } from '../../ext-authz/src/app';
import type { TlsFiles } from '../../ext-authz/src/server/tls';
import { DEMO_PIN_API_TOKEN } from '../../ext-authz/src/config/default';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { describeWithOpenssl, makePki } from '../support/pki';
import type { Pki } from '../support/pki';
import { runCliAsync, spawnCli } from '../cli/run-cli';

jest.setTimeout(90_000);

interface Reply {
  status: number;
  body: string;
}

interface ClientTls {
  ca?: string;
  cert?: string;
  key?: string;
}

/** One request; `tls` undefined → plain HTTP. Rejects on any transport or handshake failure. */
function request(port: number, method: string, p: string, headers: Record<string, string>, body: string | undefined, tls: ClientTls | undefined): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, method, path: p, headers, agent: false as const, timeout: 10_000 };
    const onRes = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = tls
      ? https.request({
        ...common,
        servername: 'localhost',
        ca: tls.ca ? fs.readFileSync(tls.ca) : undefined,
        cert: tls.cert ? fs.readFileSync(tls.cert) : undefined,
        key: tls.key ? fs.readFileSync(tls.key) : undefined,
      }, onRes)
      : http.request(common, onRes);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const mintBody = JSON.stringify({ connection: 'demo', backend: 'legacy' });
const mintHeaders = { authorization: `Bearer ${DEMO_PIN_API_TOKEN}`, 'content-type': 'application/json' };

const maybe = describeWithOpenssl('HTTP listener TLS');

maybe('HTTP listener TLS', () => {
  let dir: string;
  let pki: Pki;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-http-tls-'));
    pki = makePki(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function withApp(httpTls: TlsFiles, fn: (port: number) => Promise<void>): Promise<void> {
    const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, httpTls, logger: createLogger({ stream: new PassThrough() }), watch: false });
    const { httpPort } = await app.start();
    try {
      await fn(httpPort);
    } finally {
      await app.stop();
    }
  }

  test('TLS: a client trusting the CA mints a pin and reads /readyz; plaintext and untrusting clients get nothing', async () => {
    await withApp({ cert: pki.serverCert, key: pki.serverKey }, async (port) => {
      expect(await request(port, 'GET', '/readyz', {}, undefined, { ca: pki.ca })).toEqual({ status: 200, body: 'ready\n' });
      const minted = await request(port, 'POST', '/v1/pins:mint', mintHeaders, mintBody, { ca: pki.ca });
      expect(minted.status).toBe(200);
      expect(JSON.parse(minted.body).state).toMatch(/^[A-Za-z0-9_-]{32}$/);
      // The bearer token never crosses in clear: a plaintext request is not answered at all.
      await expect(request(port, 'POST', '/v1/pins:mint', mintHeaders, mintBody, undefined)).rejects.toThrow();
      // A client that does not trust the server's CA refuses the handshake.
      await expect(request(port, 'GET', '/readyz', {}, undefined, {})).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SELF_SIGNED|UNABLE/) });
    });
  });

  test('mTLS: only a client certificate from the configured CA gets through', async () => {
    await withApp({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }, async (port) => {
      const withCert = await request(port, 'POST', '/v1/pins:mint', mintHeaders, mintBody, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
      expect(withCert.status).toBe(200);
      await expect(request(port, 'POST', '/v1/pins:mint', mintHeaders, mintBody, { ca: pki.ca })).rejects.toThrow();
      await expect(request(port, 'GET', '/readyz', {}, undefined, { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey })).rejects.toThrow();
      // Forward-auth on the same listener, with the client certificate.
      const check = await request(port, 'GET', '/envoy/authz/oauth2/callback?code=c', { host: 'auth.example.com' }, undefined, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
      expect(check.status).toBe(400);
      expect(JSON.parse(check.body)).toMatchObject({ error: 'request_denied', reason: 'state_missing' });
    });
  });

  test('an unreadable file fails start-up naming the flag and the file', async () => {
    const missing = path.join(dir, 'missing.pem');
    const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, httpTls: { cert: pki.serverCert, key: missing }, logger: createLogger({ stream: new PassThrough() }) });
    await expect(app.listen()).rejects.toMatchObject({ code: 'tls_file_unreadable', message: expect.stringContaining(`--http-tls-key file ${missing}`) });
    await app.stop();
  });

  test('CLI: the flags are usage-checked (exit 2) and serve answers over https with a client certificate', async () => {
    const half = await runCliAsync(['serve', '--http-tls-cert', pki.serverCert]);
    expect(half.status).toBe(2);
    expect(half.stderr).toContain('--http-tls-cert and --http-tls-key must be given together');
    const caOnly = await runCliAsync(['serve', '--http-tls-ca', pki.ca]);
    expect(caOnly.status).toBe(2);
    expect(caOnly.stderr).toContain('--http-tls-ca needs --http-tls-cert and --http-tls-key');
    const help = await runCliAsync(['serve', '--help']);
    expect(help.stdout).toContain('--http-tls-cert <file>');

    const child = spawnCli(['serve', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--grace-ms', '0',
      '--http-tls-cert', pki.serverCert, '--http-tls-key', pki.serverKey, '--http-tls-ca', pki.ca]);
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not become ready:\n${stderr}`)), 60_000);
        child.stderr.on('data', (c) => {
          stderr += String(c);
          const m = /http=127\.0\.0\.1:(\d+) \(https\)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const ok = await request(port, 'POST', '/v1/pins:mint', mintHeaders, mintBody, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
      expect(ok.status).toBe(200);
      await expect(request(port, 'GET', '/healthz', {}, undefined, undefined)).rejects.toThrow();
    } finally {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  });
});
