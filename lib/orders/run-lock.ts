/**
 * Keeps reads of one node from overlapping: a trigger that arrives while a read runs either waits its
 * turn or is skipped. Only plain poll triggers may be skipped; commands (backfill, reset) always wait,
 * because dropping them would lose what the user asked for.
 */
export type BusyMode = 'wait' | 'skip';

export class RunLock {
  private tail: Promise<void> = Promise.resolve();
  private running = 0;
  private waitingPolls = 0;

  get busy(): boolean {
    return this.running > 0;
  }

  /**
   * Runs `task` after every earlier one. `skippable` tasks are refused (resolves `{ran: false}`) when the
   * lock is busy and mode is `skip`, or when another skippable task is already waiting (two queued polls
   * would read the same orders twice).
   */
  async run<T>(task: () => Promise<T>, opts: { skippable: boolean; mode: BusyMode }): Promise<{ ran: true; value: T } | { ran: false }> {
    const mustWait = this.running > 0;
    if (opts.skippable && mustWait && (opts.mode === 'skip' || this.waitingPolls > 0)) return { ran: false };
    const waitingPoll = opts.skippable && mustWait;
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => { release = r; });
    this.running++;
    if (waitingPoll) this.waitingPolls++;
    try {
      await previous;
      if (waitingPoll) this.waitingPolls--;
      return { ran: true, value: await task() };
    } finally {
      this.running--;
      release();
    }
  }

  /** Resolves when every task queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
