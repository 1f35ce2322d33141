// The opa-envoy-plugin input document, case by case as the plugin defines it: protojson attributes,
// parsed_path / parsed_query with Go's URL rules, parsed_body by Content-Type (JSON, url-encoded,
// multipart), truncation by Content-Length or Envoy's partial-body header, skip-request-body-parse,
// version and source_principal. Requests are written as protojson, the form the plugin's docs use.
import { fromProtojson } from '../../../ext-authz/src/check/protojson-request';
import { buildOpaEnvoyInput, parsePathAndQuery } from '../../../ext-authz/src/check/opa-envoy/index';
import type { OpaEnvoyInputOptions } from '../../../ext-authz/src/check/opa-envoy/index';

function http(h: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { attributes: { request: { http: { method: 'POST', path: '/', ...h } }, ...extra } };
}

function input(req: Record<string, unknown>, opts: OpaEnvoyInputOptions = {}): Record<string, unknown> {
  const r = buildOpaEnvoyInput(fromProtojson(req).decoded, opts);
  if (!r.ok) throw new Error(`unexpected parse error: ${r.detail}`);
  return r.input;
}

function body(headers: Record<string, string>, b: { body?: string; rawBody?: string }): [unknown, unknown] {
  const i = input(http({ headers, ...b }));
  return [i.parsed_body, i.truncated_body];
}

function parseError(req: Record<string, unknown>): string {
  const r = buildOpaEnvoyInput(fromProtojson(req).decoded);
  if (r.ok) throw new Error('expected a request_parse_error');
  expect(r.code).toBe('request_parse_error');
  return r.detail;
}

describe('the document around the request', () => {
  test('attributes are protojson (lowerCamelCase, RFC 3339 time, int64 as string); version names v3/protojson', () => {
    const i = input({
      attributes: {
        source: { address: { socketAddress: { address: '10.0.0.1', portValue: 5555 } } },
        contextExtensions: { virtual_host: 'api' },
        request: { time: '2024-05-01T10:00:00.250Z', http: { id: '42', method: 'GET', path: '/api', host: 'h', headers: { ':path': '/api' }, size: '12' } },
      },
    });
    const a = i.attributes as Record<string, any>;
    expect(a.source.address.socketAddress).toEqual({ address: '10.0.0.1', portValue: 5555 });
    expect(a.contextExtensions).toEqual({ virtual_host: 'api' });
    expect(a.request.time).toBe('2024-05-01T10:00:00.250Z');
    expect(a.request.http.size).toBe('12');
    expect(i.version).toEqual({ ext_authz: 'v3', encoding: 'protojson' });
    expect(Object.keys(i).sort()).toEqual(['attributes', 'parsed_body', 'parsed_path', 'parsed_query', 'truncated_body', 'version']);
  });

  test('source_principal is copied out when Envoy sends a peer principal, and absent otherwise', () => {
    expect(input(http({}, { source: { principal: 'spiffe://td/ns/default/sa/web' } })).source_principal).toBe('spiffe://td/ns/default/sa/web');
    expect('source_principal' in input(http({}, { source: { principal: '' } }))).toBe(false);
  });

  test('a request without http attributes still gets path [""] and an empty query', () => {
    const i = buildOpaEnvoyInput({});
    expect(i).toMatchObject({ ok: true, input: { parsed_path: [''], parsed_query: {}, parsed_body: null, truncated_body: false } });
    expect('attributes' in (i as { input: object }).input).toBe(false);
  });
});

describe('parsed_path and parsed_query', () => {
  test.each([
    ['/my/test/path', ['my', 'test', 'path'], {}],
    ['/my/test/path?a=1', ['my', 'test', 'path'], { a: ['1'] }],
    ['/my/test/path?a=1&a=2&b=', ['my', 'test', 'path'], { a: ['1', '2'], b: [''] }],
    ['/p?a=new%0aline&flag', ['p'], { a: ['new\nline'], flag: [''] }],
    ['%2Fmy%2Ftest%2Fpath?a=1', ['my', 'test', 'path'], { a: ['1'] }],
    ['//x/people?a=1', ['x', 'people'], { a: ['1'] }],
    ['/', [''], {}],
    ['/a+b/c%20d?q=a+b%2Bc', ['a+b', 'c d'], { q: ['a b+c'] }],
    ['/trailing/', ['trailing', ''], {}],
    ['/p?&&x=1&&', ['p'], { x: ['1'] }],
    ['/p?__proto__=1', ['p'], { ['__proto__']: ['1'] }],
  ])('%s', (path, parsedPath, parsedQuery) => {
    const r = parsePathAndQuery(path);
    expect(r.parsedPath).toEqual(parsedPath);
    expect(r.parsedQuery).toEqual(parsedQuery);
    expect(Object.getPrototypeOf(r.parsedQuery)).toBe(Object.prototype);
  });

  test('a bad escape or a semicolon separator makes the request unreadable', () => {
    expect(parseError(http({ path: '/bad%zzpath' }))).toContain('escape');
    expect(parseError(http({ path: '/p?a=%4' }))).toContain('escape');
    expect(parseError(http({ path: '/p?a=1;b=2' }))).toContain('semicolon');
  });
});

describe('parsed_body', () => {
  const json = { 'content-type': 'application/json' };
  test.each([
    ['"foo"', 'foo'],
    ['true', true],
    ['42', 42],
    ['null', null],
    ['{"firstname": "foo", "lastname": "bar"}', { firstname: 'foo', lastname: 'bar' }],
    ['["hello", "opa"]', ['hello', 'opa']],
    ['["\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041"]', ['"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 'A']],
  ])('JSON %s', (text, want) => {
    expect(body(json, { body: text })).toEqual([want, false]);
  });

  test('JSON from raw_body (Envoy pack_as_bytes)', () => {
    expect(body(json, { rawBody: Buffer.from('{"a": [1]}').toString('base64') })).toEqual([{ a: [1] }, false]);
  });

  test('an empty body, no content type, or an unsupported one gives null', () => {
    expect(body(json, { body: '' })).toEqual([null, false]);
    expect(body({ 'content-length': '0' }, { body: 'x' })).toEqual([null, false]);
    expect(body({ 'content-type': 'text/html' }, { body: '<p>' })).toEqual([null, false]);
    expect(body({ 'content-type': 'application/grpc' }, { rawBody: 'AAAAAAA=' })).toEqual([null, false]);
  });

  test('invalid JSON makes the request unreadable', () => {
    expect(parseError(http({ headers: json, body: '["foo" : 42}' }))).toContain('JSON');
  });

  test('a Content-Length larger than the body means truncated (no parse); equal or -1 does not', () => {
    expect(body({ ...json, 'content-length': '1000' }, { body: 'true' })).toEqual([null, true]);
    expect(body({ ...json, 'content-length': '4' }, { body: 'true' })).toEqual([true, false]);
    expect(body({ ...json, 'content-length': '-1' }, { body: 'true' })).toEqual([true, false]);
    // multi-byte characters count in bytes, as Envoy's Content-Length does
    expect(body({ ...json, 'content-length': '4' }, { body: '"é"' })).toEqual(['é', false]);
    expect(parseError(http({ headers: { ...json, 'content-length': 'many' }, body: 'true' }))).toContain('content-length');
  });

  test('x-envoy-auth-partial-body: "true" means truncated whatever the type; "false" parses', () => {
    const obj = '{"firstname": "foo"}';
    expect(body({ ...json, 'x-envoy-auth-partial-body': 'true' }, { body: obj })).toEqual([null, true]);
    expect(body({ 'content-type': 'application/x-www-form-urlencoded', 'x-envoy-auth-partial-body': 'true' }, { body: 'a=b' })).toEqual([null, true]);
    expect(body({ ...json, 'x-envoy-auth-partial-body': 'false' }, { body: obj })).toEqual([{ firstname: 'foo' }, false]);
  });

  describe('url-encoded forms', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    test('values are lists in order, from body or raw_body', () => {
      expect(body(form, { body: 'firstname=foo&lastname=bar&lastname=foobar' })).toEqual([{ firstname: ['foo'], lastname: ['bar', 'foobar'] }, false]);
      expect(body(form, { rawBody: Buffer.from('firstname=foo&lastname=bar').toString('base64') })).toEqual([{ firstname: ['foo'], lastname: ['bar'] }, false]);
      expect(body({ 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, { body: 'SAMLResponse=a%2Bb+c' })).toEqual([{ SAMLResponse: ['a+b c'] }, false]);
    });
    test('empty → null; truncated → null + true; malformed → unreadable', () => {
      expect(body(form, { body: '' })).toEqual([null, false]);
      expect(body({ ...form, 'content-length': '1000' }, { body: 'a=b' })).toEqual([null, true]);
      expect(parseError(http({ headers: form, body: 'a=%GG' }))).toContain('escape');
    });
  });

  describe('multipart forms', () => {
    const mp = { 'content-type': 'multipart/form-data; boundary=foo' };
    test('text parts become strings, JSON parts are parsed; LF or CRLF line ends', () => {
      const lf = '--foo\nContent-Disposition: form-data; name="foo"\nContent-Type: text/plain\n\nbar\n--foo\nContent-Disposition: form-data; name="bar"\nContent-Type: application/json;\n\n{"name": "bar"}\n--foo--\n';
      expect(body(mp, { body: lf })).toEqual([{ foo: ['bar'], bar: [{ name: 'bar' }] }, false]);
      const crlf = 'preamble\r\n--foo\r\nContent-Disposition: form-data; name="a"\r\n\r\nline1\r\nline2\r\n--foo\r\nContent-Disposition: form-data; name="a"\r\n\r\nsecond\r\n--foo--\r\n';
      expect(body(mp, { body: crlf })).toEqual([{ a: ['line1\r\nline2', 'second'] }, false]);
    });
    test('unnamed and non-form-data parts are skipped; a quoted boundary works', () => {
      const text = '--b c\nContent-Type: text/plain\n\nnobody\n--b c\nContent-Disposition: attachment; name="x"\n\nskip\n--b c\nContent-Disposition: form-data; name="k"; filename="f.txt"\n\nv\n--b c--';
      expect(body({ 'content-type': 'multipart/form-data; boundary="b c"' }, { body: text })).toEqual([{ k: ['v'] }, false]);
    });
    test('no boundary parameter → null; truncated → null + true', () => {
      expect(body({ 'content-type': 'multipart/form-data' }, { body: '--x\n\n--x--' })).toEqual([null, false]);
      expect(body({ ...mp, 'content-length': '9999' }, { body: '--foo\n\n--foo--' })).toEqual([null, true]);
    });
    test('an unterminated body, a bad JSON part or a malformed media type makes the request unreadable', () => {
      parseError(http({ headers: mp, body: '--foo\nContent-Disposition: form-data; name="a"\n\nno end' }));
      parseError(http({ headers: mp, body: '--foo\nContent-Disposition: form-data; name="a"\nContent-Type: application/json\n\n{nope\n--foo--' }));
      parseError(http({ headers: { 'content-type': 'multipart/form-data; boundary' }, body: '--x--' }));
    });
  });

  test('skip-request-body-parse leaves both fields out, even for an unparseable body', () => {
    const i = input(http({ headers: json, body: '["foo" : 42}' }), { skipRequestBodyParse: true });
    expect('parsed_body' in i).toBe(false);
    expect('truncated_body' in i).toBe(false);
  });
});
