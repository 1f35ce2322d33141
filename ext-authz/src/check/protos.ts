// Loads Envoy's ext_authz v3 protos (from @grpc/grpc-js-xds's deps/ in node_modules, never copied) and our Pin API proto
// once per process, with proto-loader options that decode straight into protojson field names.
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import { envoyApiProtoDirs } from '../envoy/proto-paths';

/**
 * Decode options. `keepCase: false` yields lowerCamelCase field names, which are protojson's JSON names,
 * so the decoded CheckRequest's attributes need only well-known-type fix-ups to become the OPA-Envoy
 * `input.attributes`. int64 as strings and enums as names match protojson too; `defaults: false` omits
 * unpopulated fields as protojson does.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: false,
  oneofs: false,
};

/** Repository-relative location of our own protos (resolved from this file, no absolute paths). */
export function ourProtoDir(): string {
  return path.join(__dirname, '..', '..', '..', 'proto');
}

export interface LoadedProtos {
  authorizationService: grpc.ServiceDefinition;
  pinsService: grpc.ServiceDefinition;
  /** Client constructors for tests, the bench and `pins mint`. */
  AuthorizationClient: grpc.ServiceClientConstructor;
  PinsClient: grpc.ServiceClientConstructor;
}

let cached: LoadedProtos | null = null;

/** Loads and caches both service definitions; the first call costs ~100 ms, later ones nothing. */
export function loadProtos(): LoadedProtos {
  if (cached) return cached;
  const envoyDef = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...LOADER_OPTIONS,
    includeDirs: envoyApiProtoDirs(),
  });
  const pinsDef = protoLoader.loadSync('callbackproxy/v1/pins.proto', { ...LOADER_OPTIONS, includeDirs: [ourProtoDir()] });
  const envoyPkg = grpc.loadPackageDefinition(envoyDef) as unknown as {
    envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } };
  };
  const pinsPkg = grpc.loadPackageDefinition(pinsDef) as unknown as {
    callbackproxy: { v1: { Pins: grpc.ServiceClientConstructor } };
  };
  const AuthorizationClient = envoyPkg.envoy.service.auth.v3.Authorization;
  const PinsClient = pinsPkg.callbackproxy.v1.Pins;
  cached = {
    authorizationService: AuthorizationClient.service,
    pinsService: PinsClient.service,
    AuthorizationClient,
    PinsClient,
  };
  return cached;
}
