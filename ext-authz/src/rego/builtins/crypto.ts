// Builtins: crypto.* (OPA policy reference, "Crypto"): digests and HMACs as lowercase hex of the
// UTF-8 input, constant-time MAC comparison, certificates and RSA private keys, all with node:crypto.
import { createHash, createHmac, createPrivateKey, timingSafeEqual } from 'node:crypto';
import { BuiltinError } from '../errors';
import type { Value } from '../value';
import { makeObject } from '../value';
import { mustString, type BuiltinSpec } from './registry';
import { parseCertificates } from './crypto-x509';

function digest(name: string, alg: string): BuiltinSpec {
  return {
    name,
    category: 'crypto',
    args: ['string'],
    result: 'string',
    fn: (args) => createHash(alg).update(mustString(name, args, 0), 'utf8').digest('hex'),
  };
}

function hmac(name: string, alg: string): BuiltinSpec {
  return {
    name,
    category: 'crypto',
    args: ['string', 'string'],
    result: 'string',
    fn: (args) => {
      const x = mustString(name, args, 0);
      const key = mustString(name, args, 1);
      return createHmac(alg, Buffer.from(key, 'utf8')).update(x, 'utf8').digest('hex');
    },
  };
}

/** PEM text, or base64 of PEM text (OPA accepts both for key/certificate operands). */
function pemText(s: string): string {
  if (s.includes('-----BEGIN')) return s;
  const decoded = Buffer.from(s, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : s;
}

export const cryptoBuiltins: readonly BuiltinSpec[] = [
  digest('crypto.md5', 'md5'),
  digest('crypto.sha1', 'sha1'),
  digest('crypto.sha256', 'sha256'),
  hmac('crypto.hmac.md5', 'md5'),
  hmac('crypto.hmac.sha1', 'sha1'),
  hmac('crypto.hmac.sha256', 'sha256'),
  hmac('crypto.hmac.sha512', 'sha512'),
  {
    name: 'crypto.hmac.equal',
    category: 'crypto',
    args: ['string', 'string'],
    result: 'boolean',
    // Constant time in the content (Go's hmac.Equal); a length difference is not secret.
    fn: (args) => {
      const a = Buffer.from(mustString('crypto.hmac.equal', args, 0), 'utf8');
      const b = Buffer.from(mustString('crypto.hmac.equal', args, 1), 'utf8');
      return a.length === b.length && timingSafeEqual(a, b);
    },
  },
  {
    name: 'crypto.x509.parse_certificates',
    category: 'crypto',
    args: ['string'],
    result: { array: { object: ['string', 'any'] } },
    fn: (args) => parseCertificates('crypto.x509.parse_certificates', mustString('crypto.x509.parse_certificates', args, 0)),
  },
  {
    name: 'crypto.x509.parse_rsa_private_key',
    category: 'crypto',
    args: ['string'],
    result: { object: ['string', 'any'] },
    fn: (args) => {
      const name = 'crypto.x509.parse_rsa_private_key';
      const pem = pemText(mustString(name, args, 0));
      let jwk: Record<string, unknown>;
      try {
        const key = createPrivateKey(pem);
        if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
        jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
      } catch {
        throw new BuiltinError(`${name}: failed to parse PEM block containing the key`);
      }
      const entries: [Value, Value][] = [];
      for (const k of ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi']) {
        if (typeof jwk[k] === 'string') entries.push([k, jwk[k] as string]);
      }
      return makeObject(entries);
    },
  },
];
