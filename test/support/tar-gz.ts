// Builds `.tar.gz` bundles for tests with the system tar (GNU tar), so the reader is checked against
// archives it did not write. `raw` writes a hand-made ustar stream for entries tar refuses to create
// (`..` paths, duplicates).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export type TreeFiles = Record<string, string | Buffer>;

export function writeTree(dir: string, files: TreeFiles): void {
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

/** A gzipped tar of `files` made by GNU tar in the given format (default pax). */
export function tarGz(files: TreeFiles, format: 'pax' | 'gnu' | 'ustar' = 'pax'): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-tar-'));
  try {
    writeTree(path.join(dir, 'root'), files);
    const out = path.join(dir, 'b.tar.gz');
    execFileSync('tar', ['-czf', out, `--format=${format}`, '-C', path.join(dir, 'root'), ...Object.keys(files).sort()]);
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A ustar stream written by hand: any names, duplicates and entry types allowed. */
export function rawTarGz(entries: { name: string; data?: string | Buffer; type?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    parts.push(header(e.name, data.length, e.type ?? '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}
