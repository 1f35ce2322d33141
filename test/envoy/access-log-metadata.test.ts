// The Envoy access log reads ext-authz's dynamic metadata: every key it reads under the ext_authz
// namespace must be one the service really sends (or Envoy adds itself), in envoy/envoy.yaml and in
// `envoy render`'s output, and the service must send every key of DYNAMIC_METADATA_KEYS on allow and
// deny alike: checked on real gRPC Check responses, not on the list alone.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { extAuthzMetadataKeys, lintEnvoyConfig } from '../../ext-authz/src/envoy/lint';
import { accessLogMetadataFields, renderEnvoyConfig } from '../../ext-authz/src/envoy/render';
import { DYNAMIC_METADATA_KEYS, ENVOY_EXT_AUTHZ_METADATA_KEYS } from '../../ext-authz/src/model/dynamic-metadata';
import { toCheckResponse } from '../../ext-authz/src/check/check-response';
import { structToJson } from '../../ext-authz/src/check/attributes-json';
import type { DecodedStruct } from '../../ext-authz/src/check/check-request-types';
import { result } from '../check/fixtures';
import { cb, checkRequestFor, grpcCheck, ISS_LEGACY, startHarness, type Harness } from '../support/app-harness';

const ROOT = path.join(__dirname, '..', '..');
type Obj = Record<string, any>;

function accessLogStrings(cfg: Obj): string[] {
  const hcm = cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  return Object.values<string>(hcm.access_log[0].typed_config.log_format.json_format);
}

describe('dynamic metadata on Check responses', () => {
  it('without policy metadata: exactly DYNAMIC_METADATA_KEYS, on allow and on deny', () => {
    for (const r of [result(), result({ action: 'deny', backend: null, reasons: ['state_unknown'] })]) {
      const md = structToJson(toCheckResponse(r, { routingHeader: 'x-callback-backend' }).dynamicMetadata as DecodedStruct);
      expect(Object.keys(md).sort()).toEqual([...DYNAMIC_METADATA_KEYS].sort());
    }
  });

  let h: Harness;
  // Real gRPC against the app with the callback policy.
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('an allowed and a denied callback both carry every key the access log may read', async () => {
    const state = await h.mint('legacy');
    const allow = await grpcCheck(h.client, checkRequestFor({ path: cb({ code: 'c-md-1', state, iss: ISS_LEGACY }) }));
    const deny = await grpcCheck(h.client, checkRequestFor({ path: cb({ code: 'c-md-2', state: 'not-a-state' }) }));
    expect(allow.okResponse).toBeDefined();
    expect(deny.deniedResponse).toBeDefined();
    // The service's own keys are always there; the callback policy adds its own (kind, shadow_candidate),
    // which the access log does not rely on.
    for (const r of [allow, deny]) expect(Object.keys(r.dynamicMetadata.fields)).toEqual(expect.arrayContaining([...DYNAMIC_METADATA_KEYS]));
    expect(allow.dynamicMetadata.fields.backend.stringValue).toBe('legacy');
    expect(deny.dynamicMetadata.fields.action.stringValue).toBe('deny');
    expect(deny.dynamicMetadata.fields.reasons.listValue.values.length).toBeGreaterThan(0);
  });
});

describe('the access logs we ship read only those keys', () => {
  const known = [...DYNAMIC_METADATA_KEYS, ...ENVOY_EXT_AUTHZ_METADATA_KEYS] as string[];
  const handWritten = accessLogStrings(YAML.parse(fs.readFileSync(path.join(ROOT, 'envoy', 'envoy.yaml'), 'utf8')));
  const rendered = accessLogStrings(renderEnvoyConfig(createDemoRegistry()));

  it('envoy/envoy.yaml and `envoy render` read every key the service sets, and nothing else', () => {
    for (const texts of [handWritten, rendered]) {
      const keys = extAuthzMetadataKeys(texts);
      expect(keys.filter((k) => !known.includes(k))).toEqual([]);
      expect([...DYNAMIC_METADATA_KEYS].filter((k) => !keys.includes(k))).toEqual([]);
    }
  });

  it('the hand-written access log has the same metadata fields as the rendered one', () => {
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, 'envoy', 'envoy.yaml'), 'utf8')) as Obj;
    const fmt = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config.log_format.json_format;
    expect(fmt).toMatchObject(accessLogMetadataFields());
  });
});

describe('extAuthzMetadataKeys / lint rule access_log_unknown_metadata', () => {
  it('reads both command forms, sub-paths and ignores other namespaces and whole-namespace reads', () => {
    expect(
      extAuthzMetadataKeys([
        '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:stage)%',
        'x=%METADATA(DYNAMIC:envoy.filters.http.ext_authz:reason:first)%:10 y=%DYNAMIC_METADATA(envoy.filters.http.ext_authz)%',
        '%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:reason)%',
      ]),
    ).toEqual(['stage', 'reason']);
  });

  it('flags a key the service never sets, naming it; accepts Envoy\'s ext_authz_duration', () => {
    const cfg = (fields: Record<string, string>): Obj => {
      const c = renderEnvoyConfig(createDemoRegistry()) as Obj;
      c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0].typed_config.log_format.json_format = { status: '%RESPONSE_CODE%', ...fields };
      return c;
    };
    const bad = lintEnvoyConfig(cfg({ r: '%METADATA(DYNAMIC:envoy.filters.http.ext_authz:reason)%' }));
    expect(bad.map((f) => f.code)).toEqual(['access_log_unknown_metadata']);
    expect(bad[0].message).toContain('envoy.filters.http.ext_authz:reason');
    expect(lintEnvoyConfig(cfg({ d: '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:ext_authz_duration)%' }))).toEqual([]);
  });
});
