// Secret references in the registry: `env:NAME` (an environment variable) or `file:path` (a file,
// relative to the registry's directory, e.g. a mounted Kubernetes secret). Values never reach errors.
import { errnoCode } from '../model/errors';
import fs from 'node:fs';
import path from 'node:path';

export interface SecretContext {
  baseDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

export type SecretResult = { ok: true; value: string } | { ok: false; message: string };

/** Resolves one secret reference; a plain value is returned as is. */
export function resolveSecret(raw: string, ctx: SecretContext): SecretResult {
  if (raw.startsWith('env:')) {
    const name = raw.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { ok: false, message: 'env: reference needs a variable name' };
    const v = ctx.env[name];
    if (v === undefined || v === '') return { ok: false, message: `environment variable ${name} is not set` };
    return { ok: true, value: v.trim() };
  }
  if (raw.startsWith('file:')) {
    const rel = raw.slice(5);
    const p = path.resolve(ctx.baseDir, rel);
    try {
      return { ok: true, value: fs.readFileSync(p, 'utf8').trim() };
    } catch (e) {
      // The errno code says why (ENOENT, EACCES, EISDIR); the file's content is never part of it.
      return { ok: false, message: `secret file ${rel} is not readable (${errnoCode(e)})` };
    }
  }
  return { ok: true, value: raw };
}
