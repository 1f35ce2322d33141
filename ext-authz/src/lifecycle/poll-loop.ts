// A timer loop for the lifecycle's background work (docs/stages.md, "One source of truth"): runs `tick`
// every `intervalMs`, never two at once, and at once when kicked (a pub/sub message said something
// changed). Unref'd: it never keeps a finished process alive. `tick` must not throw.
export class PollLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private kicked = false;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
  ) {}

  start(): void {
    this.schedule(this.intervalMs);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch(() => undefined)
        .finally(() => {
          this.running = null;
          const again = this.kicked;
          this.kicked = false;
          this.schedule(again ? 0 : this.intervalMs);
        });
    }, ms);
    this.timer.unref();
  }

  /** Runs the next tick now (or right after the one in progress). */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Stops the loop and waits for a tick in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
