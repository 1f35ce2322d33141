// Envoy's API protos, loaded with protobufjs from the @grpc/grpc-js-xds package (its deps/ folder holds
// envoy-api, xds, udpa, validate and googleapis). Types are loaded on demand by package directory so that
// every `typed_config` "@type" in a config can be resolved without loading all of Envoy's API up front.
import fs from 'node:fs';
import path from 'node:path';
import * as protobuf from 'protobufjs';
import { envoyApiProtoDirs } from './proto-paths';

export function envoyProtoIncludeDirs(): string[] {
  const dirs = envoyApiProtoDirs();
  // google/protobuf/*.proto (descriptor.proto and friends) ship with protobufjs itself.
  dirs.push(path.dirname(require.resolve('protobufjs/package.json')));
  return dirs;
}

/** A protobufjs Root over Envoy's protos that can load a message type by its full name. */
export class EnvoyProtoRoot {
  readonly root: protobuf.Root;
  private readonly includeDirs: string[];
  private readonly loadedDirs = new Set<string>();

  constructor(includeDirs: string[] = envoyProtoIncludeDirs()) {
    this.includeDirs = includeDirs;
    this.root = new protobuf.Root();
    this.root.resolvePath = (_origin: string, target: string): string | null => {
      if (path.isAbsolute(target) && fs.existsSync(target)) return target;
      for (const dir of this.includeDirs) {
        const p = path.join(dir, target);
        if (fs.existsSync(p)) return p;
      }
      return null;
    };
  }

  /** The message type `full` (e.g. envoy.config.bootstrap.v3.Bootstrap), loading its package dir. */
  lookupType(full: string): protobuf.Type | null {
    const found = this.tryLookup(full);
    if (found) return found;
    const pkg = full.split('.').slice(0, -1);
    // Nested messages: walk up until a directory with protos exists.
    for (let n = pkg.length; n > 0; n--) {
      const rel = pkg.slice(0, n).join('/');
      if (this.loadDir(rel)) break;
    }
    return this.tryLookup(full);
  }

  private tryLookup(full: string): protobuf.Type | null {
    try {
      const t = this.root.lookup(full);
      return t instanceof protobuf.Type ? t : null;
    } catch {
      return null;
    }
  }

  private loadDir(rel: string): boolean {
    if (this.loadedDirs.has(rel)) return false;
    for (const dir of this.includeDirs) {
      const abs = path.join(dir, rel);
      if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) continue;
      const files = fs.readdirSync(abs).filter((f) => f.endsWith('.proto'));
      if (files.length === 0) continue;
      this.loadedDirs.add(rel);
      this.root.loadSync(files.map((f) => path.join(rel, f)), { keepCase: true });
      this.root.resolveAll();
      return true;
    }
    return false;
  }
}
