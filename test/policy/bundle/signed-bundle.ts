// Signs test bundles the way `opa build --signing-key` does: a `.signatures.json` with one compact JWS
// whose payload lists every file with its SHA-256. Digests here are over the raw bytes, so data files
// in test bundles are written already in canonical form ({"k":1}), keeping this helper independent of
// the hashing code under test.
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { tarGz } from '../../support/tar-gz';
import type { TreeFiles } from '../../support/tar-gz';

export const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

export interface SignOpts {
  key: KeyObject | Uint8Array;
  alg?: string;
  kid?: string;
  payload?: Record<string, unknown>;
  /** Files to list (default: all of them). */
  list?: Record<string, string>;
  /** Files added to the archive after signing. */
  extra?: TreeFiles;
}

export async function signedBundle(files: TreeFiles, o: SignOpts): Promise<Buffer> {
  const list = o.list ?? Object.fromEntries(Object.entries(files).map(([n, c]) => [n, sha256(c)]));
  const payload = { files: Object.entries(list).map(([name, hash]) => ({ name, hash, algorithm: 'SHA-256' })), ...o.payload };
  const header: { alg: string; kid?: string } = { alg: o.alg ?? 'RS256' };
  if (o.kid !== undefined) header.kid = o.kid;
  const jws = await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(o.key);
  return tarGz({ ...files, ...o.extra, '.signatures.json': JSON.stringify({ signatures: [jws] }) });
}
