// TLS and mTLS on the gRPC listener with certificates made in the test (test/support/pki.ts: openssl):
// a CA, a server certificate for 127.0.0.1 and a client certificate. Skips loudly without openssl
// (fails in CI).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { App } from '../../ext-authz/src/app';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { checkRequestFor, grpcCheck } from '../support/app-harness';
import { describeWithOpenssl, makePki } from '../support/pki';
import type { Pki } from '../support/pki';

jest.setTimeout(60_000);

const maybe = describeWithOpenssl('TLS');

maybe('gRPC listener TLS', () => {
  let dir: string;
  let pki: Pki;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-tls-'));
    pki = makePki(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function withApp(tls: { cert: string; key: string; ca?: string }, fn: (port: number) => Promise<void>): Promise<void> {
    const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, tls, logger: createLogger({ stream: new PassThrough() }), watch: false });
    const { grpcPort } = await app.start();
    try {
      await fn(grpcPort);
    } finally {
      await app.stop();
    }
  }

  const Client = (): grpc.ServiceClientConstructor => loadProtos().AuthorizationClient;
  // The certificate also names localhost; using it as the TLS server name avoids an IP in SNI (RFC 6066 §3).
  const sni = { 'grpc.ssl_target_name_override': 'localhost' };
  const req = checkRequestFor({ path: '/oauth2/callback?code=a' });

  test('TLS: a client trusting the CA gets answers; a plaintext client does not', async () => {
    await withApp({ cert: pki.serverCert, key: pki.serverKey }, async (port) => {
      const ok = new (Client())(`127.0.0.1:${port}`, grpc.credentials.createSsl(fs.readFileSync(pki.ca)), sni) as any;
      const plain = new (Client())(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
      try {
        expect((await grpcCheck(ok, req)).status.code).toBe(7);
        await expect(grpcCheck(plain, req)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      } finally {
        ok.close();
        plain.close();
      }
    });
  });

  test('mTLS: a client certificate from the CA is required', async () => {
    await withApp({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }, async (port) => {
      const ca = fs.readFileSync(pki.ca);
      const withCert = new (Client())(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca, fs.readFileSync(pki.clientKey), fs.readFileSync(pki.clientCert)), sni) as any;
      const noCert = new (Client())(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca), sni) as any;
      try {
        expect((await grpcCheck(withCert, req)).status.code).toBe(7);
        await expect(grpcCheck(noCert, req)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      } finally {
        withCert.close();
        noCert.close();
      }
    });
  });

  test('an unreadable certificate file fails start-up naming the flag and file', async () => {
    const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, tls: { cert: path.join(dir, 'missing.pem'), key: pki.serverKey }, logger: createLogger({ stream: new PassThrough() }) });
    await expect(app.listen()).rejects.toMatchObject({ code: 'tls_file_unreadable', message: expect.stringContaining('--tls-cert file') });
    await app.stop();
  });
});
