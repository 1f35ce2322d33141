// The audit trail's JSON-lines file (docs/stages.md, "The audit trail"): a mirror of the shared chain,
// so every replica's file holds the whole chain and `callback-proxy audit verify <file>` can check it.
// Lines are appended synchronously (stage changes are rare; the order on disk is the chain's order).
// A file that does not continue the shared chain is moved aside, never rewritten.
import fs from 'node:fs';
import type { AuditRecord, ChainHead } from './audit-chain';
import { EMPTY_HEAD, verifyChain } from './audit-chain';
import type { LifecycleStore } from './lifecycle-store';

export type FileOpen =
  | { ok: true; records: AuditRecord[]; head: ChainHead }
  | { ok: false; problem: string; movedTo: string };

export class AuditFile {
  private headNow: ChainHead = EMPTY_HEAD;

  constructor(readonly path: string, private readonly clock: () => number = Date.now) {}

  get head(): ChainHead {
    return this.headNow;
  }

  /**
   * Reads and verifies the existing file. A broken chain is moved aside (kept as evidence, for
   * `audit verify`) and a new file begins.
   */
  open(): FileOpen {
    let text = '';
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read audit file ${this.path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const v = verifyChain(text);
    if (!v.ok) {
      const movedTo = this.moveAside('broken');
      return { ok: false, problem: `line ${v.line}: ${v.problem}`, movedTo };
    }
    const records = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditRecord);
    this.headNow = v.head;
    // Fail now, not at the first change, when the file cannot be written.
    fs.appendFileSync(this.path, '');
    return { ok: true, records, head: v.head };
  }

  /** Appends records that continue the file's chain. */
  append(records: readonly AuditRecord[]): void {
    if (records.length === 0) return;
    if (records[0].prev !== this.headNow.hash || records[0].seq !== this.headNow.seq + 1) throw new Error('audit records do not continue the file');
    fs.appendFileSync(this.path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const last = records[records.length - 1];
    this.headNow = { seq: last.seq, hash: last.hash };
  }

  /**
   * Brings the file up to the store's chain: appends what is missing, or — when the file is not a prefix
   * of the chain (an emptied store, a file from elsewhere) — moves it aside and mirrors the chain anew.
   */
  async sync(store: Pick<LifecycleStore, 'auditHead' | 'auditRange'>): Promise<{ appended: number; movedTo: string | null }> {
    const head = await store.auditHead();
    if (head.seq === this.headNow.seq && head.hash === this.headNow.hash) return { appended: 0, movedTo: null };
    let continues = head.seq > this.headNow.seq;
    if (continues && this.headNow.seq > 0) continues = (await store.auditRange(this.headNow.seq, 1))[0]?.hash === this.headNow.hash;
    const movedTo = continues ? null : this.moveAside('diverged');
    let appended = 0;
    while (this.headNow.seq < head.seq) {
      const batch = await store.auditRange(this.headNow.seq + 1, 500);
      if (batch.length === 0) break;
      this.append(batch);
      appended += batch.length;
    }
    return { appended, movedTo };
  }

  /** Moves the current file aside (`<file>.<why>-<ms>`) and starts an empty one. */
  moveAside(why: string): string {
    const to = `${this.path}.${why}-${this.clock()}`;
    try {
      fs.renameSync(this.path, to);
    } catch {
      // nothing to move
    }
    this.headNow = EMPTY_HEAD;
    return to;
  }
}
