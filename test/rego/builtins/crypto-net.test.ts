// crypto.* and net.* builtins: vectors from the builtins_crypto_net corpus and OPA's cryptohmac cases.
import { generateKeyPairSync } from 'node:crypto';
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import { RegoSet, type Value } from '../../../ext-authz/src/rego/value';
import { errorOf, json, jwtCorpus } from './harness';

describe('crypto', () => {
  test.each<[string, Value[], unknown]>([
    ['crypto.sha256', ['abc'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['crypto.sha1', ['abc'], 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['crypto.md5', ['abc'], '900150983cd24fb0d6963f7d28e17f72'],
    ['crypto.sha256', ['{"a":2,"b":1}'], 'd3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772'],
    ['crypto.hmac.sha256', ['message', 'key'], '6e9ef29b75fffc5b7abae527d58fdadb2fe42e7219011976917343065f58ed4a'],
    ['crypto.hmac.sha512', ['message', 'key'], 'e477384d7ca229dd1426e64b63ebf2d36ebd6d7e669a6735424e72ea6c01d3f8b56eb39c36d8232f5427999b8d1a3f9cd1128fc69f4d75b434216810fa367e98'],
    ['crypto.hmac.sha256', ['message', ''], 'eb08c1f56d5ddee07f7bdf80468083da06b64cf4fac64fe3a90883df5feacae4'],
    ['crypto.hmac.md5', ['', ''], '74e6f7298a9c2d168935f58c001bad88'],
    ['crypto.hmac.sha1', ['', ''], 'fbdb1d1b18aa6c08324b7d64b71fb76370690e1d'],
    ['crypto.hmac.equal', ['abc', 'abc'], true],
    ['crypto.hmac.equal', ['abc', 'abd'], false],
    ['crypto.hmac.equal', ['abc', 'abcd'], false],
    ['crypto.hmac.equal', ['', ''], true],
  ])('%s%j', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test('operand type errors', () => {
    const e = errorOf('crypto.sha256', 1);
    expect(e.kind).toBe('type');
    expect(e.message).toBe('crypto.sha256: operand 1 must be string but got number');
    expect(errorOf('crypto.hmac.sha256', 'm', 1).message).toBe('crypto.hmac.sha256: operand 2 must be string but got number');
  });

  test('x509.parse_certificates reads PEM and base64-of-PEM certificates', () => {
    const pem = jwtCorpus().keys.rsa_cert;
    const [cert] = json('crypto.x509.parse_certificates', pem) as Record<string, unknown>[];
    expect(cert).toMatchObject({
      Subject: { CommonName: 'jwt-test' }, Issuer: { CommonName: 'jwt-test' }, IsCA: true,
      NotBefore: '2026-11-28T12:13:14Z', NotAfter: '2126-11-04T12:13:14Z', SerialNumber: 1, DNSNames: null,
    });
    expect(json('crypto.x509.parse_certificates', Buffer.from(pem).toString('base64'))).toEqual([cert]);
    expect(errorOf('crypto.x509.parse_certificates', 'not a cert').kind).toBe('builtin');
  });

  test('x509.parse_rsa_private_key returns the key as a JWK', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const jwk = json('crypto.x509.parse_rsa_private_key', pem) as Record<string, string>;
    expect(jwk.kty).toBe('RSA');
    expect(jwk.e).toBe('AQAB');
    expect(Object.keys(jwk).sort()).toEqual(['d', 'dp', 'dq', 'e', 'kty', 'n', 'p', 'q', 'qi']);
    expect(errorOf('crypto.x509.parse_rsa_private_key', 'nope').kind).toBe('builtin');
  });
});

describe('net', () => {
  test.each<[string, Value[], unknown]>([
    ['net.cidr_contains', ['10.0.0.0/8', '10.1.0.0/16'], true],
    ['net.cidr_contains', ['10.1.0.0/16', '10.0.0.0/8'], false],
    ['net.cidr_contains', ['2001:db8::/32', '2001:db8:1::1'], true],
    ['net.cidr_contains', ['2001:db8::/32', '2001:db9::1'], false],
    ['net.cidr_contains', ['0.0.0.0/0', '8.8.8.8'], true],
    ['net.cidr_contains', ['10.1.2.3/8', '10.200.0.1'], true],
    ['net.cidr_contains', ['10.0.0.0/8', '::ffff:10.1.1.1'], true],
    ['net.cidr_contains', ['10.0.0.0/8', '2001:db8::1'], false],
    ['net.cidr_intersects', ['10.0.0.0/8', '10.1.0.0/16'], true],
    ['net.cidr_intersects', ['10.0.0.0/16', '10.1.0.0/16'], false],
    ['net.cidr_intersects', ['fd00::/8', 'fd12::/16'], true],
    ['net.cidr_intersects', ['10.0.0.0/8', '::/0'], false],
    ['net.cidr_merge', [['10.0.0.0/24', '10.0.1.0/24']], ['10.0.0.0/23']],
    ['net.cidr_merge', [['10.0.0.0/8', '10.1.0.0/16', '192.168.0.0/24']], ['10.0.0.0/8', '192.168.0.0/24']],
    ['net.cidr_merge', [['192.168.0.0', '192.168.0.1']], ['192.168.0.0/24']],
    ['net.cidr_merge', [new RegoSet(['10.0.2.0/24', '10.0.3.0/24'])], ['10.0.2.0/23']],
    ['net.cidr_merge', [[]], []],
    ['net.cidr_merge', [['2001:db8::/33', '2001:db8:8000::/33']], ['2001:db8::/32']],
    ['net.cidr_merge', [['10.0.1.0/24', '10.0.2.0/24']], ['10.0.1.0/24', '10.0.2.0/24']],
    ['net.cidr_contains_matches', ['10.0.0.0/8', '10.9.9.9'], [['10.0.0.0/8', '10.9.9.9']]],
    ['net.cidr_contains_matches', [['10.0.0.0/8', '192.168.0.0/16'], ['192.168.1.1', '10.0.0.1']], [[0, 1], [1, 0]]],
    ['net.cidr_contains_matches', [{ a: '10.0.0.0/8', b: ['192.168.0.0/16', 'x'] }, new RegoSet(['10.1.1.1'])], [['a', '10.1.1.1']]],
    ['net.cidr_expand', ['192.168.0.0/30'], ['192.168.0.0', '192.168.0.1', '192.168.0.2', '192.168.0.3']],
    ['net.cidr_expand', ['2001:db8::/127'], ['2001:db8::', '2001:db8::1']],
    ['net.cidr_is_valid', ['10.0.0.0/8'], true],
    ['net.cidr_is_valid', ['10.0.0.0'], false],
    ['net.cidr_is_valid', ['10.0.0.0/33'], false],
    ['net.cidr_is_valid', ['::/0'], true],
    ['net.cidr_is_valid', ['::ffff:1.2.3.4/120'], true],
    ['net.cidr_is_valid', ['010.0.0.0/8'], false],
    ['net.cidr_overlap', ['10.0.0.0/8', '10.0.0.1'], true],
  ])('%s%j', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test.each<[string, Value[], string]>([
    ['net.cidr_contains', ['10.0.0.0/99', '10.0.0.1'], 'net.cidr_contains: invalid CIDR address: 10.0.0.0/99'],
    ['net.cidr_contains', ['10.0.0.0/8', 'not-an-ip'], 'net.cidr_contains: not a valid textual representation of an IP address or CIDR: not-an-ip'],
    ['net.cidr_contains', ['10.0.0.1', '10.0.0.1'], 'net.cidr_contains: invalid CIDR address: 10.0.0.1'],
    ['net.cidr_intersects', ['10.0.0.1', '10.0.0.0/8'], 'net.cidr_intersects: invalid CIDR address: 10.0.0.1'],
    ['net.cidr_expand', ['x/8'], 'net.cidr_expand: invalid CIDR address: x/8'],
    ['net.cidr_contains_matches', [['nope'], ['1.1.1.1']], 'net.cidr_contains_matches: invalid CIDR address: nope'],
    ['net.cidr_merge', [['bad']], 'net.cidr_merge: invalid CIDR address: bad'],
    ['net.lookup_ip_addr', ['example.com'], 'net.lookup_ip_addr: not supported'],
  ])('%s%j fails', (name, args, message) => {
    const e = errorOf(name, ...args);
    expect(e.kind).toBe('builtin');
    expect(e.message).toBe(message);
  });

  test('cidr_expand refuses huge ranges instead of exhausting memory', () => {
    expect(errorOf('net.cidr_expand', '10.0.0.0/8').kind).toBe('builtin');
  });

  test('cidr_overlap is deprecated', () => {
    expect(defaultRegistry.get('net.cidr_overlap')!.deprecated).toBe(true);
  });
});
