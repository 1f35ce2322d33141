// 12-factor configuration of `serve`: every flag also reads a CALLBACK_PROXY_* variable; a flag wins over
// its variable, which wins over the default; an empty variable counts as unset; a bad value names the
// flag or the variable it came from; --help names every variable; unknown CALLBACK_PROXY_* variables
// are reported (Kubernetes service links excepted).
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerServeCommand, SERVE_FLAGS, unknownVariables } from '../../ext-authz/src/cli/serve-command';
import type { ServeOptions as AppOptions } from '../../ext-authz/src/cli/serve-command';
import { CliError } from '../../ext-authz/src/cli/cli-errors';
import { parseServe } from '../support/serve-options';

const parse = parseServe;

interface Row {
  flag: string;
  env: string;
  /** What the option becomes in AppOptions. */
  read: (o: AppOptions) => unknown;
  dflt: unknown;
  a: string;
  b: string;
  /** Expected AppOptions value for a given input string. */
  as?: (v: string) => unknown;
  /** Flags that must accompany this one. */
  with?: string[];
  bad?: string;
  badMessage?: string;
}

/** A PEM public key file for the verification flags (RSA; ES256 reads it too, and jose refuses it later). */
const PUBLIC_PEM = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-serve-cfg-')), 'pub.pem');
fs.writeFileSync(PUBLIC_PEM, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));

/** Two OPA config files, told apart by a label. */
const OPA_A = path.join(path.dirname(PUBLIC_PEM), 'opa-a.yaml');
const OPA_B = path.join(path.dirname(PUBLIC_PEM), 'opa-b.yaml');
fs.writeFileSync(OPA_A, 'labels:\n  file: a\n');
fs.writeFileSync(OPA_B, 'labels:\n  file: b\n');

const rows: Row[] = [
  { flag: '--mode', env: 'CALLBACK_PROXY_MODE', read: (o) => o.mode, dflt: 'callback', a: 'callback', b: 'callback', bad: 'opa', badMessage: 'unknown mode "opa"; expected one of callback, opa-envoy' },
  { flag: '--config', env: 'CALLBACK_PROXY_CONFIG', read: (o) => o.configFile, dflt: undefined, a: 'a.yaml', b: 'b.yaml' },
  { flag: '--policy', env: 'CALLBACK_PROXY_POLICY', read: (o) => o.policyDir, dflt: 'policies/callback', a: 'p1', b: 'p2' },
  { flag: '--engine', env: 'CALLBACK_PROXY_ENGINE', read: (o) => o.engine, dflt: 'auto', a: 'wasm', b: 'rego', bad: 'opa', badMessage: 'expected one of auto, rego, wasm' },
  { flag: '--verification-key', env: 'CALLBACK_PROXY_VERIFICATION_KEY', read: (o) => o.verification?.keys.default?.key, dflt: undefined, a: 'secret-one', b: 'secret-two', with: ['--signing-alg', 'HS256'] },
  // With a key given, the defaults (key id `default`, RS256) read as undefined here.
  { flag: '--verification-key-id', env: 'CALLBACK_PROXY_VERIFICATION_KEY_ID', read: (o) => (o.verification?.keyId === 'default' ? undefined : o.verification?.keyId), dflt: undefined, a: 'k1', b: 'k2', with: ['--verification-key', PUBLIC_PEM] },
  { flag: '--signing-alg', env: 'CALLBACK_PROXY_SIGNING_ALG', read: (o) => (o.verification?.keys.default?.algorithm === 'RS256' ? undefined : o.verification?.keys.default?.algorithm), dflt: undefined, a: 'HS256', b: 'ES256', with: ['--verification-key', PUBLIC_PEM], bad: 'none', badMessage: 'unsupported signing algorithm "none"' },
  { flag: '--scope', env: 'CALLBACK_PROXY_SCOPE', read: (o) => o.verification?.scope, dflt: undefined, a: 'write', b: 'read', with: ['--verification-key', 's', '--signing-alg', 'HS256'] },
  { flag: '--exclude-files', env: 'CALLBACK_PROXY_EXCLUDE_FILES', read: (o) => o.verification?.excludeFiles?.join('|'), dflt: undefined, a: 'a.json,b/*', b: 'c.rego', as: (v) => v.split(',').join('|'), with: ['--verification-key', 's', '--signing-alg', 'HS256'] },
  { flag: '--bundle-token', env: 'CALLBACK_PROXY_BUNDLE_TOKEN', read: (o) => o.bundleToken, dflt: undefined, a: 't1', b: 't2', with: ['--policy', 'https://bundles.example.com/b.tar.gz'] },
  { flag: '--opa-config', env: 'CALLBACK_PROXY_OPA_CONFIG', read: (o) => o.decisionLogLabels?.file, dflt: undefined, a: OPA_A, b: OPA_B, as: (v) => (v === OPA_A ? 'a' : 'b'), bad: 'no-such-opa.yaml', badMessage: 'config_unreadable: no-such-opa.yaml: cannot read (ENOENT)' },
  { flag: '--shadow-policy', env: 'CALLBACK_PROXY_SHADOW_POLICY', read: (o) => o.shadowPolicy, dflt: undefined, a: 'cand1', b: 'cand2.tar.gz' },
  { flag: '--data', env: 'CALLBACK_PROXY_DATA', read: (o) => o.dataFile, dflt: undefined, a: 'd1.json', b: 'd2.json' },
  { flag: '--decision', env: 'CALLBACK_PROXY_DECISION', read: (o) => o.decisionPath, dflt: 'callback/decision', a: 'envoy/authz/allow', b: 'data.x.y', bad: 'no such/path!', badMessage: 'expected a decision path' },
  { flag: '--grpc-addr', env: 'CALLBACK_PROXY_GRPC_ADDR', read: (o) => o.grpcAddr, dflt: '127.0.0.1:9191', a: '0.0.0.0:1', b: '[::1]:2', bad: 'localhost', badMessage: 'expected host:port' },
  { flag: '--http-addr', env: 'CALLBACK_PROXY_HTTP_ADDR', read: (o) => o.httpAddr, dflt: '127.0.0.1:9192', a: '0.0.0.0:3', b: '10.0.0.1:4', bad: 'host:99999', badMessage: 'expected host:port' },
  { flag: '--admin-addr', env: 'CALLBACK_PROXY_ADMIN_ADDR', read: (o) => o.adminAddr, dflt: '127.0.0.1:9193', a: '0.0.0.0:5', b: '127.0.0.1:6', bad: ':9193', badMessage: 'expected host:port' },
  { flag: '--redis', env: 'CALLBACK_PROXY_REDIS', read: (o) => o.redisUrl, dflt: undefined, a: 'redis://r1:6379', b: 'rediss://r2:6380/1', bad: 'http://r1', badMessage: 'expected a redis:// or rediss:// URL' },
  { flag: '--tls-cert', env: 'CALLBACK_PROXY_TLS_CERT', read: (o) => o.tls?.cert, dflt: undefined, a: 'c1.pem', b: 'c2.pem', with: ['--tls-key', 'k.pem'] },
  { flag: '--tls-key', env: 'CALLBACK_PROXY_TLS_KEY', read: (o) => o.tls?.key, dflt: undefined, a: 'k1.pem', b: 'k2.pem', with: ['--tls-cert', 'c.pem'] },
  { flag: '--tls-ca', env: 'CALLBACK_PROXY_TLS_CA', read: (o) => o.tls?.ca, dflt: undefined, a: 'ca1.pem', b: 'ca2.pem', with: ['--tls-cert', 'c.pem', '--tls-key', 'k.pem'] },
  { flag: '--http-tls-cert', env: 'CALLBACK_PROXY_HTTP_TLS_CERT', read: (o) => o.httpTls?.cert, dflt: undefined, a: 'hc1.pem', b: 'hc2.pem', with: ['--http-tls-key', 'hk.pem'] },
  { flag: '--http-tls-key', env: 'CALLBACK_PROXY_HTTP_TLS_KEY', read: (o) => o.httpTls?.key, dflt: undefined, a: 'hk1.pem', b: 'hk2.pem', with: ['--http-tls-cert', 'hc.pem'] },
  { flag: '--http-tls-ca', env: 'CALLBACK_PROXY_HTTP_TLS_CA', read: (o) => o.httpTls?.ca, dflt: undefined, a: 'hca1.pem', b: 'hca2.pem', with: ['--http-tls-cert', 'hc.pem', '--http-tls-key', 'hk.pem'] },
  { flag: '--audit-log', env: 'CALLBACK_PROXY_AUDIT_LOG', read: (o) => o.auditLog, dflt: null, a: 'a1.jsonl', b: 'a2.jsonl' },
  { flag: '--decision-log', env: 'CALLBACK_PROXY_DECISION_LOG', read: (o) => o.decisionLog, dflt: null, a: 'stdout', b: 'd.jsonl' },
  { flag: '--log-level', env: 'CALLBACK_PROXY_LOG_LEVEL', read: (o) => o.logLevel, dflt: 'info', a: 'debug', b: 'warn', bad: 'verbose', badMessage: 'unknown log level "verbose"; expected one of fatal, error, warn, info, debug, trace, silent' },
  {
    flag: '--workers', env: 'CALLBACK_PROXY_WORKERS', read: (o) => o.workers, dflt: 1, a: '2', b: 'auto', as: (v) => (v === 'auto' ? Math.min(64, os.availableParallelism()) : Number(v)),
    with: ['--redis', 'redis://r:6379', '--config', 'r.yaml'], bad: 'many', badMessage: 'expected a number of workers (1..64) or auto',
  },
  { flag: '--grace-ms', env: 'CALLBACK_PROXY_GRACE_MS', read: (o) => o.graceMs, dflt: 2000, a: '0', b: '25000', as: Number, bad: '2s', badMessage: 'expected an integer between 0 and 25000' },
];

describe('--mode opa-envoy', () => {
  test('is read from the flag or CALLBACK_PROXY_MODE, and its default decision path is envoy/authz/allow', async () => {
    const viaFlag = await parse(['--mode', 'opa-envoy', '--policy', 'p']);
    expect([viaFlag.mode, viaFlag.decisionPath, viaFlag.policyDir]).toEqual(['opa-envoy', 'envoy/authz/allow', 'p']);
    const viaEnv = await parse([], { CALLBACK_PROXY_MODE: 'opa-envoy', CALLBACK_PROXY_POLICY: 'p' });
    expect([viaEnv.mode, viaEnv.decisionPath]).toEqual(['opa-envoy', 'envoy/authz/allow']);
    expect((await parse(['--mode', 'opa-envoy', '--policy', 'p', '--decision', 'envoy/authz/result'])).decisionPath).toBe('envoy/authz/result');
  });

  test('needs --policy, and refuses the flags of the callback mode, naming them', async () => {
    await expect(parse(['--mode', 'opa-envoy'])).rejects.toThrow('--policy: required with --mode opa-envoy');
    await expect(parse(['--mode', 'opa-envoy', '--policy', 'p', '--config', 'r.yaml'])).rejects.toThrow('--config: not used with --mode opa-envoy');
    await expect(parse(['--mode', 'opa-envoy', '--policy', 'p'], { CALLBACK_PROXY_REDIS: 'redis://r:6379' })).rejects.toThrow('CALLBACK_PROXY_REDIS: not used with --mode opa-envoy');
    await expect(parse(['--mode', 'opa-envoy', '--policy', 'p', '--audit-log', 'a.jsonl'])).rejects.toThrow('--audit-log: not used with --mode opa-envoy');
  });
});

/** Switches (no value): the flag turns them on, the variable takes true/false/1/0. */
const switches = [{ flag: '--v0-compatible', env: 'CALLBACK_PROXY_V0_COMPATIBLE', read: (o: AppOptions) => o.v0Compatible === true }];

describe.each(switches)('switch $flag / $env', (s) => {
  test('off by default; on by the flag, or by the variable set to true or 1; false, 0 or empty leave it off', async () => {
    expect(s.read(await parse([]))).toBe(false);
    expect(s.read(await parse([s.flag]))).toBe(true);
    for (const v of ['true', '1', 'TRUE']) expect(s.read(await parse([], { [s.env]: v }))).toBe(true);
    for (const v of ['false', '0', '']) expect(s.read(await parse([], { [s.env]: v }))).toBe(false);
    expect(s.read(await parse([s.flag], { [s.env]: 'false' }))).toBe(true);
    await expect(parse([], { [s.env]: 'yes please' })).rejects.toThrow(`${s.env}: expected true or false`);
  });
});

test('the table covers every serve flag', () => {
  expect([...rows, ...switches].map((r) => `${r.flag} ${r.env}`).sort()).toEqual(SERVE_FLAGS.map((s) => `${s.flag} ${s.env}`).sort());
});

describe.each(rows)('$flag / $env', (r) => {
  const as = r.as ?? ((v: string) => v);
  const extra = r.with ?? [];

  test('default, then variable, then flag', async () => {
    if (r.with === undefined) expect(r.read(await parse([]))).toEqual(r.dflt);
    expect(r.read(await parse(extra, { [r.env]: r.a }))).toEqual(as(r.a));
    expect(r.read(await parse([...extra, r.flag, r.b], { [r.env]: r.a }))).toEqual(as(r.b));
    expect(r.read(await parse([...extra, r.flag, r.b]))).toEqual(as(r.b));
  });

  test('an empty variable counts as unset', async () => {
    if (r.flag === '--tls-cert' || r.flag === '--tls-key') {
      // Unset, so the other half of the pair stands alone.
      await expect(parse(extra, { [r.env]: '' })).rejects.toThrow(`${extra[0]}: the TLS certificate and key must be given together`);
      return;
    }
    if (r.flag === '--http-tls-cert' || r.flag === '--http-tls-key') {
      await expect(parse(extra, { [r.env]: '' })).rejects.toThrow(`${extra[0]}: the HTTP listener's certificate and key must be given together`);
      return;
    }
    const o = await parse(extra, { [r.env]: '' });
    if (r.with === undefined || r.flag === '--workers') expect(r.read(o)).toEqual(r.dflt);
    else expect(r.read(o)).toBeUndefined();
  });

  if (r.bad !== undefined) {
    test('a bad value names the variable, or the flag, it came from', async () => {
      await expect(parse([], { [r.env]: r.bad! })).rejects.toThrow(new CliError('cli_usage', `${r.env}: ${r.badMessage}`).message);
      await expect(parse([r.flag, r.bad!], { [r.env]: r.a })).rejects.toThrow(`${r.flag}: ${r.badMessage}`);
    });
  }
});

test('more than one worker needs --redis and --config, and says why (a memory store must not be split)', async () => {
  await expect(parse(['--workers', '2', '--config', 'r.yaml'])).rejects.toThrow(new CliError('cli_usage', '--workers: 2 workers need --redis: pins and one-time markers in memory live in one process').message);
  await expect(parse(['--config', 'r.yaml'], { CALLBACK_PROXY_WORKERS: '3' })).rejects.toThrow('CALLBACK_PROXY_WORKERS: 3 workers need --redis');
  await expect(parse(['--workers', '2', '--redis', 'redis://r:6379'])).rejects.toThrow('--workers: 2 workers need --config: the embedded demo makes its keys at start');
  await expect(parse(['--workers', '0'])).rejects.toThrow('--workers: expected a number of workers (1..64) or auto');
  await expect(parse(['--workers', '65'])).rejects.toThrow('--workers: expected a number of workers (1..64) or auto');
  // One worker is the single process, with or without a store.
  expect((await parse(['--workers', '1'])).workers).toBe(1);
});

test('bundle verification flags: a key that is neither a PEM file nor PEM text names the flag; companions need the key', async () => {
  await expect(parse(['--verification-key', 'no-such-key.pem'])).rejects.toThrow('--verification-key: not a readable PEM public key for RS256 (give the path of a PEM file; no such file)');
  await expect(parse(['--scope', 'write'])).rejects.toThrow('--scope: needs --verification-key');
  await expect(parse(['--bundle-token', 't'])).rejects.toThrow('--bundle-token: a bearer token needs an http(s) bundle URL as --policy');
  await expect(parse(['--policy', 'https://b.example.com/x.tar.gz', '--bundle-token', 'env:NO_SUCH_VAR_X'])).rejects.toThrow('--bundle-token: environment variable NO_SUCH_VAR_X is not set');
  const o = await parse(['--verification-key', PUBLIC_PEM, '--exclude-files', 'a.json, src/*.rego', '--scope', 'write']);
  expect(o.verification).toEqual({ keys: { default: { key: fs.readFileSync(PUBLIC_PEM, 'utf8'), algorithm: 'RS256' } }, keyId: 'default', scope: 'write', excludeFiles: ['a.json', 'src/*.rego'] });
});

test('TLS pairs name the side that came alone', async () => {
  await expect(parse([], { CALLBACK_PROXY_TLS_CERT: 'c.pem' })).rejects.toThrow('CALLBACK_PROXY_TLS_CERT: the TLS certificate and key must be given together');
  await expect(parse(['--tls-key', 'k.pem'])).rejects.toThrow('--tls-key: the TLS certificate and key must be given together');
  await expect(parse([], { CALLBACK_PROXY_TLS_CA: 'ca.pem' })).rejects.toThrow('CALLBACK_PROXY_TLS_CA: a client CA needs a server certificate and key');
});

test('the OTEL_* variables and the rest of the environment reach the app options', async () => {
  const o = await parse([], { OTEL_SERVICE_NAME: 'svc-from-env' });
  expect(o.env?.OTEL_SERVICE_NAME).toBe('svc-from-env');
});

test('--help names every variable and the OTEL_* settings', () => {
  const program = new Command();
  registerServeCommand(program, async () => undefined);
  const help = program.commands[0].helpInformation().replace(/\s+/g, ' ');
  for (const s of SERVE_FLAGS) expect(help).toMatch(new RegExp(`env: ${s.env}\\)`));
  let after = '';
  program.commands[0].configureOutput({ writeOut: (t) => (after += t), writeErr: (t) => (after += t) });
  program.commands[0].outputHelp();
  expect(after.replace(/\s+/g, ' ')).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
  expect(after.replace(/\s+/g, ' ')).toContain('a flag wins over its variable');
});

test('unknown CALLBACK_PROXY_* variables are found; Kubernetes service links are not', () => {
  expect(
    unknownVariables({
      CALLBACK_PROXY_GRPC_ADRESS: '0.0.0.0:1',
      CALLBACK_PROXY_GRPC_ADDR: '0.0.0.0:1',
      CALLBACK_PROXY_SERVICE_HOST: '10.0.0.7',
      CALLBACK_PROXY_SERVICE_PORT: '9191',
      CALLBACK_PROXY_SERVICE_PORT_GRPC: '9191',
      CALLBACK_PROXY_PORT: 'tcp://10.0.0.7:9191',
      CALLBACK_PROXY_PORT_9191_TCP_ADDR: '10.0.0.7',
      OTHER: 'x',
    }),
  ).toEqual(['CALLBACK_PROXY_GRPC_ADRESS']);
});
