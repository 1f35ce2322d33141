// The coded-error registry: every error class the service exports outside the Rego engine
// extends CodedError, keeps its class name and its code, and no module hand-rolls `extends Error`.
import fs from 'node:fs';
import path from 'node:path';
import { CodedError } from '../../ext-authz/src/model/errors';
import { ConfigError } from '../../ext-authz/src/config/registry-errors';
import { MintError } from '../../ext-authz/src/pipeline/pins/mint';
import { PolicyLoadError } from '../../ext-authz/src/policy/engine';
import { StoreError } from '../../ext-authz/src/store/types';
import { PinApiError } from '../../ext-authz/src/server/pin-api';
import { TlsConfigError } from '../../ext-authz/src/server/tls';
import { ProtojsonError } from '../../ext-authz/src/check/protojson-request';
import { CliError } from '../../ext-authz/src/cli/cli-errors';
import { BundleError } from '../../ext-authz/src/policy/bundle/bundle-errors';
import { ServiceError } from '../../ext-authz/src/config/opa-service-client';
import { MaskRuleError } from '../../ext-authz/src/telemetry/decision-log-mask';
import { OpaEnvoyRequestError } from '../../ext-authz/src/check/opa-envoy/request-error';
import { WasmEvalError } from '../../ext-authz/src/policy/wasm/wasm-errors';
import { LifecycleError } from '../../ext-authz/src/lifecycle/errors';
import { TelemetryConfigError } from '../../ext-authz/src/telemetry/otel-settings';

const SRC = path.join(__dirname, '..', '..', 'ext-authz', 'src');

const samples: [string, CodedError][] = [
  ['ConfigError', new ConfigError('config_invalid', 'registry.yaml', [{ path: 'connections[0].stage', message: 'bad' }])],
  ['MintError', new MintError('unknown_backend', 'm')],
  ['PolicyLoadError', new PolicyLoadError('policy_compile_error', 'm')],
  ['StoreError', new StoreError('store_unavailable', 'm')],
  ['PinApiError', new PinApiError('permission_denied', 'm')],
  ['TlsConfigError', new TlsConfigError('tls_incomplete', 'm')],
  ['ProtojsonError', new ProtojsonError('protojson_not_object', 'm')],
  ['CliError', new CliError('cli_input', 'm')],
  ['BundleError', new BundleError('bundle_digest_mismatch', 'm', 'src/a.rego')],
  ['ServiceError', new ServiceError('service_timeout', 'm')],
  ['MaskRuleError', new MaskRuleError('m')],
  ['OpaEnvoyRequestError', new OpaEnvoyRequestError('m')],
  ['WasmEvalError', new WasmEvalError('wasm_abort', 'm')],
  ['LifecycleError', new LifecycleError('illegal_transition', 'm')],
  ['TelemetryConfigError', new TelemetryConfigError('telemetry_config_invalid', 'm')],
];

describe('coded errors', () => {
  test.each(samples)('%s extends CodedError and keeps its name and code', (name, e) => {
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe(name);
    expect(typeof e.code).toBe('string');
    expect(e.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  test('ConfigError names the file and the field path', () => {
    expect(samples[0][1].message).toBe('registry.yaml: connections[0].stage: bad');
  });

  function sources(dir: string, out: string[] = []): string[] {
    for (const n of fs.readdirSync(dir)) {
      const p = path.join(dir, n);
      if (fs.statSync(p).isDirectory()) {
        if (n !== 'rego') sources(p, out);
      } else if (n.endsWith('.ts')) out.push(p);
    }
    return out;
  }

  test('every exported error class in the service is in this registry and extends CodedError', () => {
    const exported = new Map<string, string>();
    for (const f of sources(SRC)) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/export (?:abstract )?class (\w+Error) extends (\w+)/g)) exported.set(m[1], m[2]);
    }
    exported.delete('CodedError');
    expect([...exported.keys()].sort()).toEqual(samples.map((s) => s[0]).sort());
    for (const [cls, base] of exported) expect(`${cls} extends ${base}`).toBe(`${cls} extends CodedError`);
  });
});
