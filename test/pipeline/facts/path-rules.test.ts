// docs/threat-model.md §6 (T-P1..T-P8) at the parser level: raw path checks and target splitting.
import { checkPath, splitTarget } from '../../../ext-authz/src/pipeline/facts/path-rules';

describe('checkPath', () => {
  it.each([
    ['T-P2 %2F', '/oauth2/callback%2F..%2Fadmin', 'encoded_slash'],
    ['T-P2 %5C', '/oauth2/callback%5C..%5Cadmin', 'encoded_slash'],
    ['T-P2 lower-case %2f', '/oauth2/callback%2f..', 'encoded_slash'],
    ['T-P3 ;', '/oauth2/callback/..;/admin', 'path_param'],
    ['T-P3 jsessionid', '/oauth2/callback;jsessionid=x', 'path_param'],
    ['T-P3 %3B', '/oauth2/callback%3Bx', 'path_param'],
    ['T-P4 %25', '/oauth2/callback/%252e%252e/admin', 'double_encoding'],
    ['T-P7 %00', '/oauth2/callback%00', 'bad_path'],
    ['T-P8 fullwidth slash', '/oauth2/callback%EF%BC%8Fadmin', 'bad_path'],
    ['T-P8 overlong slash', '/oauth2/callback%C0%AFadmin', 'bad_path'],
    ['raw non-ASCII', '/oauth2/callback\uFF0Fadmin', 'bad_path'],
    ['control char', '/oauth2/call\tback', 'bad_path'],
    ['bad escape', '/oauth2/callback%zz', 'bad_path'],
    ['no leading slash', 'oauth2/callback', 'bad_path'],
  ])('%s → %s', (_n, p, reason) => {
    expect(checkPath(p).violations).toContain(reason);
  });

  it.each(['/oauth2/callback', '/cb/../admin', '//cb', '/cb//', '/CB', '/cb.json', '/cb/extra'])('%s has no encoding violation (route matching decides)', (p) => {
    expect(checkPath(p).violations).toEqual([]);
  });

  it('gives decoded segments for parsed_path', () => {
    expect(checkPath('/a/b%41c').segments).toEqual(['a', 'bAc']);
  });
});

describe('splitTarget', () => {
  it('splits path and query', () => {
    expect(splitTarget('/cb?a=1&b=2')).toEqual({ path: '/cb', query: 'a=1&b=2', authority: null });
  });
  it('reads the authority of an absolute-form target (T-H5)', () => {
    expect(splitTarget('https://cb.example/cb?x=1')).toEqual({ path: '/cb', query: 'x=1', authority: 'cb.example' });
  });
  it('drops a fragment', () => {
    expect(splitTarget('/cb#frag')).toEqual({ path: '/cb', query: null, authority: null });
  });
});
