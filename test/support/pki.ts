// A throwaway PKI made with openssl for TLS tests: a CA, a server certificate for 127.0.0.1 /
// localhost, a client certificate from the CA, and a client certificate from a second, unrelated CA.
// Skips loudly without openssl (fails under CI=true).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA (must be refused by a listener that trusts `ca`). */
  strangerCert: string;
  strangerKey: string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `describe` when openssl is on PATH, else a loud skip (and an error under CI=true). */
export function describeWithOpenssl(what: string): jest.Describe {
  if (hasOpenssl()) return describe;
  if (process.env.CI === 'true') throw new Error(`openssl is required for the ${what} tests in CI`);
  console.warn(`SKIPPING ${what} tests: openssl not found on PATH`);
  return describe.skip;
}

export function makePki(dir: string): Pki {
  const f = (n: string): string => path.join(dir, n);
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const ca of ['ca', 'other-ca']) run(['req', '-x509', ...ec, '-keyout', f(`${ca}.key`), '-out', f(`${ca}.pem`), '-days', '1', '-subj', `/CN=test-${ca}`]);
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  fs.writeFileSync(f('stranger.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [who, ca] of [['server', 'ca'], ['client', 'ca'], ['stranger', 'other-ca']]) {
    run(['req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`]);
    run(['x509', '-req', '-in', f(`${who}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '1', '-extfile', f(`${who}.ext`)]);
  }
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    strangerCert: f('stranger.pem'),
    strangerKey: f('stranger.key'),
  };
}
