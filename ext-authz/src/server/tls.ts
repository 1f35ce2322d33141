// Optional TLS / mTLS for both listeners: the gRPC one (--tls-*) and the HTTP one (--http-tls-*),
// which carries Pin API bearer tokens and forward-auth checks. PEM files are read once at start; a CA
// file turns on client-certificate verification (required, not optional). Errors name the flag and
// the file, never its contents.
import { CodedError } from '../model/errors';
import * as fs from 'node:fs';
import type * as https from 'node:https';
import * as grpc from '@grpc/grpc-js';

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA bundle for client certificates: present → mTLS required. */
  ca?: string;
}

export type TlsErrorCode = 'tls_file_unreadable' | 'tls_incomplete';

export class TlsConfigError extends CodedError<TlsErrorCode> {}

function read(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new TlsConfigError('tls_file_unreadable', `cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

interface PemSet {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | null;
}

/** Reads the three files; `flag` is the option prefix the messages name (`--tls`, `--http-tls`). */
function readPems(tls: TlsFiles, flag: string): PemSet {
  if (!tls.cert || !tls.key) throw new TlsConfigError('tls_incomplete', `${flag}-cert and ${flag}-key must be given together`);
  return {
    cert: read(tls.cert, `${flag}-cert`),
    key: read(tls.key, `${flag}-key`),
    ca: tls.ca ? read(tls.ca, `${flag}-ca`) : null,
  };
}

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const p = readPems(tls, '--tls');
  return grpc.ServerCredentials.createSsl(p.ca, [{ cert_chain: p.cert, private_key: p.key }], p.ca !== null);
}

/**
 * node:https options for the HTTP listener, or null for plain HTTP. With a CA, a client must present
 * a certificate that chains to it (`requestCert` + `rejectUnauthorized`): the handshake fails before
 * any request is read. TLS 1.2 is the floor (RFC 9325 §3.1.1).
 */
export function httpsOptions(tls: TlsFiles | undefined): https.ServerOptions | null {
  if (!tls) return null;
  const p = readPems(tls, '--http-tls');
  const opts: https.ServerOptions = { cert: p.cert, key: p.key, minVersion: 'TLSv1.2' };
  if (p.ca !== null) {
    opts.ca = p.ca;
    opts.requestCert = true;
    opts.rejectUnauthorized = true;
  }
  return opts;
}
