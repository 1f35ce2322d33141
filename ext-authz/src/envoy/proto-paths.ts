// Where Envoy's API protos are read from: the deps/ folder of the @grpc/grpc-js-xds package (Envoy,
// xds, googleapis and validate protos), never a copy in this repository. Both the gRPC service
// (check/protos.ts, @grpc/proto-loader) and the config checker (envoy/proto-root.ts, protobufjs) use it.
import fs from 'node:fs';
import path from 'node:path';

const DEPS_SUBDIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'];

/** Include directories for Envoy's protos (those present in the installed package). */
export function envoyApiProtoDirs(): string[] {
  const deps = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return DEPS_SUBDIRS.map((d) => path.join(deps, d)).filter((d) => fs.existsSync(d));
}
