// OPA's configuration file, the accepted subset: defaults as OPA documents them, both service forms,
// credentials, bundles with polling and signing, decision logs, the Envoy plugin's options, `${VAR}`
// substitution from an env map, unknown keys as warnings with their path, and errors naming the field.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseOpaConfig, readOpaConfigFile, substituteEnv } from '../../ext-authz/src/config/opa-config';
import { ConfigError } from '../../ext-authz/src/config/registry-errors';
import { thrown } from '../support/errors';

const parse = (text: string, env: Record<string, string> = {}) => parseOpaConfig(text, { file: 'opa.yaml', env });

const issuesOf = (text: string, env: Record<string, string> = {}): { path: string; message: string }[] => thrown(() => parse(text, env), ConfigError).issues;

const FULL = `
services:
  acmecorp:
    url: https://example.com/control-plane-api/v1/
    response_header_timeout_seconds: 5
    headers: { x-team: iam }
    tls: { ca_cert: /etc/ca.pem }
    credentials:
      bearer:
        token: "\${BEARER}"
labels:
  app: myapp
  region: west
bundles:
  authz:
    service: acmecorp
    resource: bundles/http/example/authz.tar.gz
    polling:
      min_delay_seconds: 10
      max_delay_seconds: 20
      long_polling_timeout_seconds: 30
    signing:
      keyid: global_key
      scope: write
decision_logs:
  service: acmecorp
  mask_decision: /system/log/mask
  reporting:
    min_delay_seconds: 300
    max_delay_seconds: 600
    upload_size_limit_bytes: 65536
keys:
  global_key:
    algorithm: RS256
    key: "-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----"
    scope: read
default_decision: /http/example/authz/allow
plugins:
  envoy_ext_authz_grpc:
    addr: :9191
    path: envoy/authz/result
    dry-run: true
    enable-reflection: true
    skip-request-body-parse: true
`;

describe('the documented example', () => {
  test('parses into the typed config with env substitution', () => {
    const { config, warnings } = parse(FULL, { BEARER: 'tok-123' });
    expect(warnings).toEqual([]);
    expect(config.services.acmecorp).toEqual({
      name: 'acmecorp',
      url: 'https://example.com/control-plane-api/v1',
      headers: { 'x-team': 'iam' },
      responseHeaderTimeoutSeconds: 5,
      tls: { caCert: '/etc/ca.pem' },
      allowInsecureTls: false,
      credentials: { bearer: { token: 'tok-123', tokenPath: undefined, scheme: 'Bearer' } },
    });
    expect(config.bundles.authz).toEqual({
      name: 'authz',
      service: 'acmecorp',
      resource: 'bundles/http/example/authz.tar.gz',
      polling: { minDelaySeconds: 10, maxDelaySeconds: 20, longPollingTimeoutSeconds: 30 },
      signing: { keyId: 'global_key', scope: 'write', excludeFiles: [] },
      persist: false,
    });
    expect(config.keys.global_key).toMatchObject({ algorithm: 'RS256', scope: 'read' });
    expect(config.decisionLogs).toMatchObject({ service: 'acmecorp', console: false, resource: '/logs', maskDecision: '/system/log/mask' });
    expect(config.decisionLogs!.reporting).toMatchObject({ uploadSizeLimitBytes: 65536, minDelaySeconds: 300, maxDelaySeconds: 600, bufferType: 'size' });
    expect(config.labels).toEqual({ app: 'myapp', region: 'west' });
    expect(config.defaultDecision).toBe('/http/example/authz/allow');
    expect(config.plugins.envoyExtAuthzGrpc).toEqual({ addr: ':9191', path: 'envoy/authz/result', dryRun: true, enableReflection: true, skipRequestBodyParse: true });
  });

  test('readOpaConfigFile reads from disk; an unreadable file is config_unreadable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-opa-config-'));
    try {
      const f = path.join(dir, 'opa.yaml');
      fs.writeFileSync(f, FULL);
      expect(readOpaConfigFile(f, { BEARER: 'x' }).config.bundles.authz.service).toBe('acmecorp');
      expect(() => readOpaConfigFile(path.join(dir, 'nope.yaml'), {})).toThrow(expect.objectContaining({ code: 'config_unreadable' }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('defaults', () => {
  test('an empty file is a valid config with nothing configured', () => {
    const { config } = parse('');
    expect(config).toEqual({ services: {}, bundles: {}, keys: {}, decisionLogs: null, labels: {}, defaultDecision: '/system/main', plugins: { envoyExtAuthzGrpc: null } });
  });

  test('bundle: resource bundles/<name>, polling 60..120 s, the only service; plugin: :9191 and envoy/authz/allow', () => {
    const { config } = parse('services: {s: {url: "http://127.0.0.1:1"}}\nbundles: {b: {}}\nplugins: {envoy_ext_authz_grpc: {}}\ndecision_logs: {}');
    expect(config.bundles.b).toMatchObject({ service: 's', resource: 'bundles/b', polling: { minDelaySeconds: 60, maxDelaySeconds: 120 } });
    expect(config.bundles.b.polling.longPollingTimeoutSeconds).toBeUndefined();
    expect(config.plugins.envoyExtAuthzGrpc).toEqual({ addr: ':9191', path: 'envoy/authz/allow', dryRun: false, enableReflection: false, skipRequestBodyParse: false });
    expect(config.decisionLogs).toMatchObject({ service: 's', reporting: { uploadSizeLimitBytes: 32768, minDelaySeconds: 300, maxDelaySeconds: 600, bufferSizeLimitEvents: 10000 } });
  });

  test('services as a list of {name, ...} is the same as the object form', () => {
    const { config } = parse('services:\n  - name: s1\n    url: https://s1/example/\n  - name: s2\n    url: https://s2/\n');
    expect(Object.keys(config.services)).toEqual(['s1', 's2']);
    expect(config.services.s1.url).toBe('https://s1/example');
  });

  test('a file:// bundle needs no service', () => {
    const { config } = parse('bundles: {local: {resource: "file:///srv/bundle.tar.gz"}}');
    expect(config.bundles.local.service).toBeUndefined();
  });
});

describe('credentials', () => {
  test('bearer token_path and scheme, client TLS, OAuth2 client credentials', () => {
    const { config } = parse(`
services:
  a: {url: "https://a", credentials: {bearer: {token_path: /run/token, scheme: Basic}}}
  b: {url: "https://b", credentials: {client_tls: {cert: /c.pem, private_key: /k.pem, private_key_passphrase: pw}}}
  c:
    url: https://c
    credentials:
      oauth2: {token_url: "https://idp/token", client_id: opa, client_secret: s3cret, scopes: [read, write], additional_parameters: {audience: x}}
bundles: {x: {service: a}}
`);
    expect(config.services.a.credentials.bearer).toEqual({ token: undefined, tokenPath: '/run/token', scheme: 'Basic' });
    expect(config.services.b.credentials.clientTls).toEqual({ cert: '/c.pem', privateKey: '/k.pem', privateKeyPassphrase: 'pw' });
    expect(config.services.c.credentials.oauth2).toMatchObject({ tokenUrl: 'https://idp/token', clientId: 'opa', scopes: ['read', 'write'], additionalParameters: { audience: 'x' } });
  });

  test('an http:// token endpoint, a bearer with both token forms, and bearer+oauth2 are errors naming the field', () => {
    expect(issuesOf('services: {a: {url: "https://a", credentials: {oauth2: {token_url: "http://idp", client_id: a, client_secret: b}}}}')[0].path).toBe('services.a.credentials.oauth2.token_url');
    expect(issuesOf('services: {a: {url: "https://a", credentials: {bearer: {token: x, token_path: /y}}}}')[0].path).toBe('services.a.credentials.bearer');
    const both = 'services: {a: {url: "https://a", credentials: {bearer: {token: x}, oauth2: {token_url: "https://idp", client_id: a, client_secret: b}}}}';
    expect(issuesOf(both)[0].path).toBe('services.a.credentials');
  });
});

describe('errors name the field', () => {
  test.each([
    ['services: {a: {url: "ftp://x"}}', 'services.a.url'],
    ['services: {a: {url: "https://a", response_header_timeout_seconds: 1.5}}', 'services.a.response_header_timeout_seconds'],
    ['services: {a: {url: "https://a"}}\nbundles: {b: {service: nope}}', 'bundles.b.service'],
    ['services: {a: {url: "https://a"}, c: {url: "https://c"}}\nbundles: {b: {}}', 'bundles.b.service'],
    ['services: {a: {url: "https://a"}}\nbundles: {b: {polling: {min_delay_seconds: 30, max_delay_seconds: 10}}}', 'bundles.b.polling.max_delay_seconds'],
    ['services: {a: {url: "https://a"}}\nbundles: {b: {polling: {min_delay_seconds: 30}}}', 'bundles.b.polling'],
    ['services: {a: {url: "https://a"}}\nbundles: {b: {polling: {long_polling_timeout_seconds: 0}}}', 'bundles.b.polling.long_polling_timeout_seconds'],
    ['services: {a: {url: "https://a"}}\nbundles: {b: {signing: {keyid: missing}}}', 'bundles.b.signing.keyid'],
    ['keys: {k: {key: abc, algorithm: RS999}}', 'keys.k.algorithm'],
    ['keys: {k: {scope: read}}', 'keys.k'],
    ['decision_logs: {service: nope}', 'decision_logs.service'],
    ['decision_logs: {reporting: {buffer_type: ring}}', 'decision_logs.reporting.buffer_type'],
    ['labels: {a: [1]}', 'labels.a'],
    ['plugins: {envoy_ext_authz_grpc: {dry-run: "yes"}}', 'plugins.envoy_ext_authz_grpc.dry-run'],
    ['plugins: {envoy_ext_authz_grpc: {query: "data.x.allow"}}', 'plugins.envoy_ext_authz_grpc.query'],
    ['services:\n  - url: https://a', 'services[0].name'],
  ])('%s → %s', (text, field) => {
    expect(issuesOf(text).map((i) => i.path)).toContain(field);
  });

  test('the ConfigError message carries the file and the path', () => {
    try {
      parse('bundles: {b: {service: 7}}');
      throw new Error('expected an error');
    } catch (e) {
      expect((e as ConfigError).code).toBe('config_invalid');
      expect((e as Error).message).toContain('opa.yaml: bundles.b.service:');
    }
  });

  test('YAML that does not parse is config_yaml; a top-level list is config_invalid', () => {
    expect(() => parse('services: [')).toThrow(expect.objectContaining({ code: 'config_yaml' }));
    expect(() => parse('- a\n- b')).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
});

describe('unknown keys are warnings with their path, not silence', () => {
  test('unknown keys at any level, unsupported OPA sections, other plugins', () => {
    const { config, warnings } = parse(`
services: {a: {url: "https://a", colour: blue, credentials: {s3_signing: {}}}}
bundles: {b: {service: a, polling: {min_delay_seconds: 1, max_delay_seconds: 2, jitter: 3}}}
status: {service: a}
caching: {}
plugins: {envoy_ext_authz_grpc: {proto-descriptor: /x.pb}, my_plugin: {}}
nonsense: 1
`);
    expect(config.bundles.b.polling).toEqual({ minDelaySeconds: 1, maxDelaySeconds: 2 });
    expect(warnings.map((w) => w.path).sort()).toEqual([
      'bundles.b.polling.jitter',
      'caching',
      'nonsense',
      'plugins.envoy_ext_authz_grpc.proto-descriptor',
      'plugins.my_plugin',
      'services.a.colour',
      'services.a.credentials.s3_signing',
      'status',
    ]);
    expect(warnings.find((w) => w.path === 'status')!.message).toContain('not supported');
    expect(warnings.find((w) => w.path === 'plugins.my_plugin')!.message).toContain('plugin');
  });

  test('an unknown key next to a real error still reports the error', () => {
    expect(issuesOf('services: {a: {url: 5, extra: 1}}').map((i) => i.path)).toEqual(['services.a.url']);
  });
});

describe('${VAR} substitution', () => {
  test('replaces in the text before parsing (so numbers stay numbers); an unset variable becomes "" and is reported', () => {
    const { config, warnings } = parse('services: {a: {url: "${URL}", response_header_timeout_seconds: ${T}}}\nlabels: {who: "x${NOPE}y"}', { URL: 'https://a.example', T: '7' });
    expect(config.services.a.url).toBe('https://a.example');
    expect(config.services.a.responseHeaderTimeoutSeconds).toBe(7);
    expect(config.labels.who).toBe('xy');
    expect(warnings).toEqual([{ path: '', message: expect.stringContaining('NOPE') }]);
  });

  test('is non-greedy and does not touch $VAR without braces', () => {
    expect(substituteEnv('${A}-${B} $C', { A: '1', B: '2', C: '3' }).text).toBe('1-2 $C');
  });

  test('warnings name the variable, never its value', () => {
    const { warnings } = parse('labels: {a: "${SECRET}", b: "${MISSING}"}', { SECRET: 'hunter2' });
    expect(JSON.stringify(warnings)).not.toContain('hunter2');
  });
});
