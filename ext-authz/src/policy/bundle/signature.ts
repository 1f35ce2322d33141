// Bundle signature verification by OPA's rules: `.signatures.json` holds exactly one JWS whose payload
// lists every file with its digest. The key id comes from the configuration, else the JWS `kid`, else
// the payload's deprecated `keyid`; the scope from the configuration, else the key's, must equal the
// payload's. Every file in the bundle must be listed (unless excluded) and match; a listed file that
// is not in the bundle is an error too.
import { createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { BundleError } from './bundle-errors';
import { bundleFileDigest } from './bundle-hash';
import type { BundleFile } from './bundle-files';

export const SIGNATURES_FILE = '.signatures.json';
export const DEFAULT_SIGNING_ALG = 'RS256';
/** `opa run --verification-key` names its key `default` (`--verification-key-id`). */
export const DEFAULT_KEY_ID = 'default';

const ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512']);

export interface VerificationKey {
  /** PEM (public key, RSA public key, certificate, or a private key to derive it from) or an HMAC secret. */
  key: string;
  /** Default RS256. */
  algorithm?: string;
  scope?: string;
}

export interface VerificationConfig {
  keys: Record<string, VerificationKey>;
  /** Overrides the JWS `kid`; when set, an unsigned bundle is refused. */
  keyId?: string;
  scope?: string;
  /** Glob patterns (`*`, `?`) of bundle paths not checked against the signature. */
  excludeFiles?: string[];
}

/** The CLI form (`--verification-key`, `--signing-alg`, key id, scope) → a VerificationConfig. */
export function singleKeyVerification(opts: { key: string; algorithm?: string; keyId?: string; scope?: string; excludeFiles?: string[] }): VerificationConfig {
  const keyId = opts.keyId ?? DEFAULT_KEY_ID;
  return {
    keys: { [keyId]: { key: opts.key, algorithm: opts.algorithm ?? DEFAULT_SIGNING_ALG } },
    keyId,
    scope: opts.scope,
    excludeFiles: opts.excludeFiles,
  };
}

interface FileInfo {
  name: string;
  hash: string;
  algorithm: string;
}

interface SignedPayload {
  files: FileInfo[];
  keyid?: string;
  scope?: string;
}

function b64json(part: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new BundleError('bundle_signatures_invalid', `the JWS ${what} is not a base64url JSON object`, SIGNATURES_FILE);
}

/** `.signatures.json` → its one compact JWS. */
function parseSignaturesFile(bytes: Buffer): string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BundleError('bundle_signatures_invalid', 'is not valid JSON', SIGNATURES_FILE);
  }
  const d = doc as { signatures?: unknown; plugin?: unknown };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BundleError('bundle_signatures_invalid', 'must be a JSON object', SIGNATURES_FILE);
  if (d.plugin !== undefined && d.plugin !== '' && d.plugin !== '_default') {
    throw new BundleError('bundle_signatures_invalid', `verifier plugin ${JSON.stringify(d.plugin)} is not supported`, SIGNATURES_FILE);
  }
  if (!Array.isArray(d.signatures) || d.signatures.length === 0) throw new BundleError('bundle_signatures_invalid', 'missing JWT (expected exactly one)', SIGNATURES_FILE);
  if (d.signatures.length > 1) throw new BundleError('bundle_signatures_invalid', 'multiple JWTs not supported (expected exactly one)', SIGNATURES_FILE);
  if (typeof d.signatures[0] !== 'string') throw new BundleError('bundle_signatures_invalid', 'the signature must be a string', SIGNATURES_FILE);
  return d.signatures[0];
}

function importKey(keyId: string, k: VerificationKey, alg: string): KeyObject | Uint8Array {
  if (alg.startsWith('HS')) return Buffer.from(k.key, 'utf8');
  const pem = k.key.trim();
  try {
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).publicKey;
    if (pem.startsWith('-----BEGIN')) return createPublicKey(pem);
  } catch {
    throw new BundleError('bundle_key_invalid', `verification key ${JSON.stringify(keyId)} is not a readable PEM key`);
  }
  throw new BundleError('bundle_key_invalid', `verification key ${JSON.stringify(keyId)} must be PEM for ${alg}`);
}

function parsePayload(raw: Record<string, unknown>): SignedPayload {
  const files = raw.files;
  if (!Array.isArray(files)) throw new BundleError('bundle_signatures_invalid', 'the JWS payload has no files list', SIGNATURES_FILE);
  const out: FileInfo[] = [];
  for (const f of files) {
    const o = f as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || typeof o.hash !== 'string') {
      throw new BundleError('bundle_signatures_invalid', 'each listed file needs a name and a hash', SIGNATURES_FILE);
    }
    out.push({ name: o.name.replace(/^\/+/, ''), hash: o.hash, algorithm: typeof o.algorithm === 'string' ? o.algorithm : '' });
  }
  return {
    files: out,
    keyid: typeof raw.keyid === 'string' ? raw.keyid : undefined,
    scope: typeof raw.scope === 'string' ? raw.scope : undefined,
  };
}

/** Verifies the JWS and returns the listed files by name. */
async function verifyToken(token: string, cfg: VerificationConfig): Promise<{ keyId: string; listed: Map<string, FileInfo> }> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new BundleError('bundle_signatures_invalid', 'the signature is not a compact JWS', SIGNATURES_FILE);
  const header = b64json(parts[0], 'header');
  const payload = parsePayload(b64json(parts[1], 'payload'));
  const keyId = cfg.keyId || (typeof header.kid === 'string' ? header.kid : '') || payload.keyid || '';
  if (keyId === '') throw new BundleError('bundle_key_id_missing', 'verification key ID is empty (no configured key id, JWS kid or payload keyid)');
  const k = Object.prototype.hasOwnProperty.call(cfg.keys, keyId) ? cfg.keys[keyId] : undefined;
  if (!k) throw new BundleError('bundle_key_unknown', `verification key ${JSON.stringify(keyId)} is not configured`);
  const alg = k.algorithm ?? DEFAULT_SIGNING_ALG;
  if (!ALGS.has(alg)) throw new BundleError('bundle_key_invalid', `unsupported signing algorithm ${JSON.stringify(alg)}`);
  const key = importKey(keyId, k, alg);
  try {
    await compactVerify(token, key, { algorithms: [alg] });
  } catch (e) {
    const why = (e as { code?: string }).code ?? 'ERR_JWS_INVALID';
    throw new BundleError('bundle_signature_invalid', `failed to verify message with key ${JSON.stringify(keyId)} (${why})`, SIGNATURES_FILE);
  }
  const scope = cfg.scope || k.scope || '';
  if ((payload.scope ?? '') !== scope) throw new BundleError('bundle_scope_mismatch', `scope mismatch: the bundle is signed for ${JSON.stringify(payload.scope ?? '')}, expected ${JSON.stringify(scope)}`);
  const byName = new Map<string, FileInfo>();
  for (const f of payload.files) byName.set(f.name, f);
  return { keyId, listed: byName };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface VerifyResult {
  keyId: string;
  /** Files whose digests were checked. */
  verified: string[];
}

/**
 * Verifies a bundle's files against its `.signatures.json` (the bytes, or undefined when absent).
 * Throws BundleError: missing signatures when a key is configured, wrong key, scope mismatch, a file
 * not listed, a digest mismatch, a listed file that is not there.
 */
export async function verifyBundle(files: readonly BundleFile[], signatures: Buffer | undefined, cfg: VerificationConfig): Promise<VerifyResult> {
  if (signatures === undefined) throw new BundleError('bundle_signature_missing', 'bundle missing .signatures.json file');
  const token = parseSignaturesFile(signatures);
  const { keyId, listed } = await verifyToken(token, cfg);
  const exclude = (cfg.excludeFiles ?? []).map(globToRegExp);
  const verified: string[] = [];
  for (const f of files) {
    if (f.path === SIGNATURES_FILE) continue;
    if (exclude.some((re) => re.test(f.path))) {
      listed.delete(f.path);
      continue;
    }
    const info = listed.get(f.path);
    if (!info) throw new BundleError('bundle_file_unsigned', 'file not included in bundle signature', f.path);
    if (info.algorithm === '') throw new BundleError('bundle_hash_algorithm', 'no hashing algorithm provided for file', f.path);
    const got = bundleFileDigest(f.path, f.data, info.algorithm);
    if (got !== info.hash.toLowerCase()) {
      throw new BundleError('bundle_digest_mismatch', `digest mismatch (want: ${info.hash}, got: ${got})`, f.path);
    }
    listed.delete(f.path);
    verified.push(f.path);
  }
  if (listed.size > 0) {
    const names = [...listed.keys()].sort();
    throw new BundleError('bundle_file_missing', `file(s) ${names.join(', ')} specified in bundle signatures but not found in the target bundle`, names[0]);
  }
  return { keyId, verified };
}
