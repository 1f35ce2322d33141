// encoding builtins: base64/base64url/hex/urlquery/json/yaml with Go's strictness and error texts;
// vectors from builtins_encoding and OPA's base64*/hex/urlbuiltins/jsonbuiltins cases.
import { RegoObject, type Value } from '../../../ext-authz/src/rego/value';
import { errorOf, json, set } from './harness';

describe('encoding', () => {
  test.each<[string, Value[], unknown]>([
    ['base64.encode', ['hello'], 'aGVsbG8='],
    ['base64.encode', [''], ''],
    ['base64.encode', ['??>'], 'Pz8+'],
    ['base64.decode', ['aGVsbG8='], 'hello'],
    ['base64.decode', ['aGVs\nbG8='], 'hello'],
    ['base64.decode', ['YWxhZGRpbjpvcGVuc2VzYW1l'], 'aladdin:opensesame'],
    ['base64.is_valid', ['aGVsbG8='], true],
    ['base64.is_valid', ['not base64!'], false],
    ['base64.is_valid', [1], false],
    ['base64url.encode', ['\u00ff\u00fe?>'], 'w7_Dvj8-'],
    ['base64url.encode', ['??>'], 'Pz8-'],
    ['base64url.encode_no_pad', ['hello'], 'aGVsbG8'],
    ['base64url.decode', ['aGVsbG8='], 'hello'],
    ['base64url.decode', ['aGVsbG8'], 'hello'],
    ['base64url.decode', ['w7_Dvj8-'], '\u00ff\u00fe?>'],
    ['hex.encode', ['hi!'], '686921'],
    ['hex.encode', [''], ''],
    ['hex.decode', ['686921'], 'hi!'],
    ['hex.decode', ['4A4B'], 'JK'],
    ['urlquery.encode', ['a b&c=d/é'], 'a+b%26c%3Dd%2F%C3%A9'],
    ['urlquery.encode', ['?x=1+2'], '%3Fx%3D1%2B2'],
    ['urlquery.encode', ["-_.~!*'()"], "-_.~%21%2A%27%28%29"],
    ['urlquery.decode', ['abc'], 'abc'],
    ['urlquery.decode', ['a+b%2Fc'], 'a b/c'],
    ['urlquery.encode_object', [{ b: '2', a: '1 x' }], 'a=1+x&b=2'],
    ['urlquery.encode_object', [{ a: ['x', 'y'] }], 'a=x&a=y'],
    ['urlquery.encode_object', [{ a: set('y', 'x') }], 'a=x&a=y'],
    ['urlquery.encode_object', [{}], ''],
    ['urlquery.decode_object', ['a=&b'], { a: [''], b: [''] }],
    ['urlquery.decode_object', ['q=a%20b%2Bc&x+y=1'], { q: ['a b+c'], 'x y': ['1'] }],
    ['urlquery.decode_object', [''], {}],
    ['urlquery.decode_object', ['code=abc%2F123&state=xyz&state=2'], { code: ['abc/123'], state: ['xyz', '2'] }],
    ['json.marshal', [{ b: 1, a: [1, 2] }], '{"a":[1,2],"b":1}'],
    ['json.marshal', ['hi "x"'], '"hi \\"x\\""'],
    ['json.marshal', ['<a&b>'], '"\\u003ca\\u0026b\\u003e"'],
    ['json.marshal', ['é☃'], '"é☃"'],
    ['json.marshal', [set(3, 1, 2)], '[1,2,3]'],
    ['json.marshal', [[null, true]], '[null,true]'],
    ['json.marshal', [new RegoObject([[1, 'a']])], '{"1":"a"}'],
    ['json.marshal', [{}], '{}'],
    ['json.marshal_with_options', [{ a: [1], c: {} }, { pretty: true }], '{\n\t"a": [\n\t\t1\n\t],\n\t"c": {}\n}'],
    ['json.marshal_with_options', [[1], { indent: '  ', prefix: '>' }], '>[\n>  1\n>]'],
    ['json.marshal_with_options', [[1], { pretty: false, indent: '  ' }], '[1]'],
    ['json.unmarshal', ['{"a": [1, 2.5, null]}'], { a: [1, 2.5, null] }],
    ['json.unmarshal', ['"s"'], 's'],
    ['json.unmarshal', ['{"a": 1, "a": 2}'], { a: 2 }],
    ['json.is_valid', ['{a: 1}'], false],
    ['json.is_valid', [''], false],
    ['json.is_valid', ['1 2'], false],
    ['json.is_valid', ['null'], true],
    ['json.is_valid', [1], false],
    ['yaml.marshal', [{ b: [1, 2], a: 'x' }], 'a: x\nb:\n- 1\n- 2\n'],
    ['yaml.unmarshal', ['a: yes\nb: [1, 2.5]\nc: {d: null}\n'], { a: true, b: [1, 2.5], c: { d: null } }],
    ['yaml.unmarshal', ['a: 1\n---\nb: 2\n'], { a: 1 }],
    ['yaml.is_valid', ['a: [1'], false],
    ['yaml.is_valid', ['a: 1'], true],
    ['yaml.is_valid', ['a: 1\n---\n\tb: 2\n'], false],
  ])('%s(%j) = %j', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test.each<[string, Value[], string, 'type' | 'builtin']>([
    ['base64.decode', ['!!!'], 'base64.decode: illegal base64 data at input byte 0', 'builtin'],
    ['base64.decode', ['aGVsbG8'], 'base64.decode: illegal base64 data at input byte 4', 'builtin'],
    ['base64.encode', [1], 'base64.encode: operand 1 must be string but got number', 'type'],
    ['hex.decode', ['abc'], 'hex.decode: encoding/hex: odd length hex string', 'builtin'],
    ['hex.decode', ['zz'], "hex.decode: encoding/hex: invalid byte: U+007A 'z'", 'builtin'],
    ['urlquery.decode', ['%zz'], 'urlquery.decode: invalid URL escape "%zz"', 'builtin'],
    ['urlquery.decode_object', ['a=%zz'], 'urlquery.decode_object: invalid URL escape "%zz"', 'builtin'],
    [
      'urlquery.encode_object', [{ a: 1 }],
      'urlquery.encode_object: operand 1 values must be string, array[string], or set[string]', 'type',
    ],
    ['yaml.unmarshal', ['a: [1'], "yaml.unmarshal: yaml: line 1: did not find expected ',' or ']'", 'builtin'],
    ['json.marshal_with_options', [[1], { bad: 1 }], 'json.marshal_with_options: object contained unknown key "bad"', 'builtin'],
  ])('%s(%j) fails', (name, args, message, kind) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe(kind);
  });

  test('json.unmarshal of invalid text is a builtin error', () => {
    expect(errorOf('json.unmarshal', '{bad').kind).toBe('builtin');
  });
});
