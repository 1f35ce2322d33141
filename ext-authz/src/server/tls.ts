// Optional TLS / mTLS for the gRPC listener (issue #3): PEM files read once at start; a CA file turns on
// client-certificate verification. Errors name the file, never its contents.
import { CodedError } from '../model/errors';
import * as fs from 'node:fs';
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

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  if (!tls.cert || !tls.key) throw new TlsConfigError('tls_incomplete', '--tls-cert and --tls-key must be given together');
  const cert = read(tls.cert, '--tls-cert');
  const key = read(tls.key, '--tls-key');
  const ca = tls.ca ? read(tls.ca, '--tls-ca') : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}
