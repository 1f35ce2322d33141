// A bounded reader for OPA's `.tar.gz` bundles: gunzip with an output cap (a gzip bomb stops at the cap),
// then walk the ustar blocks (POSIX ustar with prefix, PAX `x` records, GNU `L` long names). Only
// regular files and directories are accepted; links, devices and FIFOs are refused by name.
// Hand-written rather than a dependency: bundles are read whole and synchronously, every size is
// checked against the limits before a byte is copied, and tar-stream 3.3 now pulls in the Bare
// runtime packages while tar 8 needs Node 22.
import { gunzipSync } from 'node:zlib';
import { BundleError } from './bundle-errors';

export interface TarEntry {
  /** The name as written in the archive (PAX / GNU long names applied), not yet normalized. */
  name: string;
  data: Buffer;
}

export interface TarLimits {
  /** Cap on the decompressed archive (bytes). */
  maxTotalBytes: number;
  /** Cap on one file (bytes). */
  maxFileBytes: number;
  /** Cap on regular files. */
  maxFiles: number;
}

const BLOCK = 512;

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

/** Octal number (space/NUL padded), or GNU base-256 when the top bit of the first byte is set. */
function numeric(h: Buffer, start: number, len: number, what: string): number {
  const raw = h.subarray(start, start + len);
  if ((raw[0] & 0x80) !== 0) {
    let n = raw[0] & 0x7f;
    for (let i = 1; i < raw.length; i++) {
      n = n * 256 + raw[i];
      if (!Number.isSafeInteger(n)) throw new BundleError('bundle_archive_invalid', `tar header ${what} is too large`);
    }
    return n;
  }
  const text = raw.toString('latin1').replace(/[\0 ]+$/g, '').replace(/^[\0 ]+/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new BundleError('bundle_archive_invalid', `tar header ${what} is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  const want = numeric(h, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** PAX extended header records: `<len> <key>=<value>\n`, len counting the whole record. */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break;
    const sp = data.indexOf(0x20, i);
    if (sp === -1) throw new BundleError('bundle_archive_invalid', 'malformed PAX header');
    const len = Number(data.subarray(i, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= sp - i || i + len > data.length) throw new BundleError('bundle_archive_invalid', 'malformed PAX header');
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq <= 0) throw new BundleError('bundle_archive_invalid', 'malformed PAX header');
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

function gunzip(bytes: Uint8Array, limits: TarLimits): Buffer {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new BundleError('bundle_archive_invalid', 'not a gzip archive (a bundle is a .tar.gz)');
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: limits.maxTotalBytes + 2 * BLOCK });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new BundleError('bundle_too_large', `the bundle decompresses to more than ${limits.maxTotalBytes} bytes`);
    }
    throw new BundleError('bundle_archive_invalid', `gzip data is corrupt (${code ?? 'error'})`);
  }
}

/** Reads every regular file of a `.tar.gz`; throws BundleError naming the entry on any violation. */
export function readTarGz(bytes: Uint8Array, limits: TarLimits): TarEntry[] {
  const tar = gunzip(bytes, limits);
  const entries: TarEntry[] = [];
  let off = 0;
  let pending: { path?: string; size?: number } = {};
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumOk(h)) throw new BundleError('bundle_archive_invalid', `tar header checksum mismatch at offset ${off}`);
    const type = String.fromCharCode(h[156] || 0x30);
    const magic = h.subarray(257, 263).toString('latin1');
    let name = field(h, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = field(h, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    let size = numeric(h, 124, 12, 'size');
    if (pending.size !== undefined) size = pending.size;
    if (pending.path !== undefined) name = pending.path;
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw new BundleError('bundle_archive_invalid', 'the archive is truncated', name);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x' || type === 'L') {
      if (size > 1024 * 1024) throw new BundleError('bundle_archive_invalid', 'extended header larger than 1 MiB');
      const data = tar.subarray(dataStart, dataEnd);
      if (type === 'x') {
        const rec = paxRecords(data);
        pending = { ...pending };
        if (rec.path !== undefined) pending.path = rec.path;
        if (rec.size !== undefined) {
          const n = Number(rec.size);
          if (!Number.isSafeInteger(n) || n < 0) throw new BundleError('bundle_archive_invalid', 'PAX size is not a number');
          pending.size = n;
        }
      } else {
        pending = { ...pending, path: data.toString('utf8').replace(/\0+$/, '') };
      }
      continue;
    }
    pending = {};
    if (type === 'g') continue; // PAX global header: nothing in it changes which files we read
    if (type === '5') continue; // directory
    if (type !== '0' && type !== '7') {
      const kind = type === '1' ? 'hard link' : type === '2' ? 'symbolic link' : type === 'K' ? 'long link name' : `entry of type '${type}'`;
      throw new BundleError('bundle_entry_type', `a bundle holds only regular files, not a ${kind}`, name);
    }
    if (size > limits.maxFileBytes) {
      throw new BundleError('bundle_file_too_large', `${size} bytes exceeds the per-file limit of ${limits.maxFileBytes}`, name);
    }
    if (entries.length >= limits.maxFiles) throw new BundleError('bundle_too_many_files', `more than ${limits.maxFiles} files in the bundle`);
    entries.push({ name, data: Buffer.from(tar.subarray(dataStart, dataEnd)) });
  }
  if (pending.path !== undefined || pending.size !== undefined) {
    throw new BundleError('bundle_archive_invalid', 'the archive ends after an extended header');
  }
  return entries;
}
