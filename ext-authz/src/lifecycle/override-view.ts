// This replica's view of the shared stage overrides (docs/stages.md, "One source of truth"): the last
// snapshot read, which connections changed with it, and whether the view can still be trusted — not
// once reads have been failing for longer than the staleness bound (then every connection's stage is
// unknown), nor for a connection whose stored override cannot be parsed.
import type { RegistryConfig } from '../model/registry';
import type { Snapshot } from './lifecycle-store';
import { parseOverride } from './overrides';
import type { StageOverride } from './overrides';

export class OverrideView {
  overrides: ReadonlyMap<string, StageOverride> = new Map();
  /** As stored (the compare-and-set values). */
  raw: ReadonlyMap<string, string> = new Map();
  scheduled: ReadonlyMap<string, string> = new Map();
  corrupt: ReadonlySet<string> = new Set();
  revision: string | null = null;
  private lastGoodRead = Number.NEGATIVE_INFINITY;
  /** The last read failed (a slow event loop alone does not make a view untrustworthy; a failed read does). */
  private failing = true;
  private allNames: ReadonlySet<string> = new Set();
  private allNamesFor: RegistryConfig | null = null;

  constructor(
    private readonly staleAfterMs: number,
    private readonly clock: () => number,
  ) {}

  /** Installs a snapshot; returns the connections whose override changed and those newly unreadable. */
  install(snap: Snapshot): { changed: string[]; newlyCorrupt: string[] } {
    const next = new Map<string, StageOverride>();
    const corrupt = new Set<string>();
    for (const [name, raw] of snap.overrides) {
      const o = parseOverride(raw);
      if (o) next.set(name, o);
      else corrupt.add(name);
    }
    const changed = [...new Set([...this.raw.keys(), ...snap.overrides.keys()])].filter((n) => this.raw.get(n) !== snap.overrides.get(n));
    const newlyCorrupt = [...corrupt].filter((n) => !this.corrupt.has(n));
    this.overrides = next;
    this.raw = snap.overrides;
    this.scheduled = snap.scheduled;
    this.corrupt = corrupt;
    this.revision = snap.revision;
    return { changed, newlyCorrupt };
  }

  markRead(): void {
    this.lastGoodRead = this.clock();
    this.failing = false;
  }

  markFailed(): void {
    this.failing = true;
  }

  /** Whether the view is fresh enough to act on (apply scheduled changes). */
  get fresh(): boolean {
    return !this.failing && this.clock() - this.lastGoodRead < this.staleAfterMs;
  }

  /**
   * Connections whose stage this replica cannot vouch for now, or null when it can for all: every one
   * once reads have been failing for longer than the bound (or nothing was read for ten times that,
   * whatever the reason); else the ones whose stored override is unreadable.
   */
  unknown(reg: RegistryConfig): ReadonlySet<string> | null {
    const age = this.clock() - this.lastGoodRead;
    if ((this.failing && age > this.staleAfterMs) || age > this.staleAfterMs * 10) {
      if (this.allNamesFor !== reg) {
        this.allNames = new Set(reg.connections.map((c) => c.name));
        this.allNamesFor = reg;
      }
      return this.allNames;
    }
    return this.corrupt.size > 0 ? this.corrupt : null;
  }
}
