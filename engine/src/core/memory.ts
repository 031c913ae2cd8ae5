/**
 * Memory kept for reuse (a backend's warm renderers, say), under one budget for the whole engine rather
 * than one per cache. Without it every worker thread's caches fill to their own limit: on a machine with
 * four workers, a few full-size frames of 4096 px canvases left the engine holding 3 GB while idle.
 *
 * A MemoryLedger lives in a SharedArrayBuffer with one slot per thread. Each thread's caches add what
 * they hold to its slot, so any thread reads the engine's total without a message. A cache makes room in
 * its own least recently used entries before it grows (`allowance`); what other threads hold beyond the
 * budget is released on the main thread's request (service/pool.ts), which cannot reach into them.
 */
import { totalmem } from 'node:os';

/** The memory this process may use: a container's limit where there is one, else the machine's. */
export function usableMemoryBytes(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 && limit < totalmem() ? limit : totalmem();
}

/** What one cache gets: how much it may hold, where it says what it holds, and how it gives memory back. */
export interface MemoryShare {
  /** Bytes this cache may hold now: the budget less what every other cache holds (may be 0 or less). */
  allowance(): number;
  /** This cache now holds `delta` bytes more (negative: fewer). */
  adjust(delta: number): void;
  /** How this cache frees at least `bytes`, least recently used first, when asked; returns the bytes it freed. */
  onRelease(release: (bytes: number) => number): void;
}

/** A share of its own budget, for a cache that shares with nothing (a backend used in-process by the CLI). */
export function privateMemory(budgetBytes: number): MemoryShare {
  return { allowance: () => budgetBytes, adjust: () => undefined, onRelease: () => undefined };
}

export class MemoryLedger {
  readonly budgetBytes: number;
  readonly buffer: SharedArrayBuffer;
  /** Bytes held per slot (a thread). Each slot is changed only by its thread, read by all. */
  private readonly slots: BigInt64Array;

  /** A new ledger with `slots` slots, or a view of an existing one (`buffer`, from another thread). */
  constructor(budgetBytes: number, slotsOrBuffer: number | SharedArrayBuffer) {
    this.budgetBytes = budgetBytes;
    this.buffer = typeof slotsOrBuffer === 'number' ? new SharedArrayBuffer(8 * Math.max(1, slotsOrBuffer)) : slotsOrBuffer;
    this.slots = new BigInt64Array(this.buffer);
  }

  /** Bytes the caches of thread `slot` hold. */
  held(slot: number): number {
    return Number(Atomics.load(this.slots, slot));
  }

  /** Bytes every cache holds. */
  total(): number {
    let sum = 0;
    for (let i = 0; i < this.slots.length; i++) sum += this.held(i);
    return sum;
  }

  /** Bytes held beyond the budget (0 when within it). */
  excess(): number {
    return Math.max(0, this.total() - this.budgetBytes);
  }

  /** Forgets what thread `slot` held (it stopped: its memory went with it). */
  reset(slot: number): void {
    Atomics.store(this.slots, slot, 0n);
  }

  /**
   * The caches of thread `slot`: the shares they take, and their release on request. Call once per
   * thread. `onExcess` runs when one of them grows while the total is over the budget (to ask others).
   */
  thread(slot: number, onExcess: () => void = () => undefined): ThreadMemory {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots.length) throw new RangeError(`no memory slot ${slot}`);
    return new ThreadMemory(this, this.slots, slot, onExcess);
  }
}

/** One thread's part of a ledger: it hands a share to each cache and releases from them on request. */
export class ThreadMemory {
  private readonly releasers: ((bytes: number) => number)[] = [];

  constructor(
    private readonly ledger: MemoryLedger,
    private readonly slots: BigInt64Array,
    private readonly slot: number,
    private readonly onExcess: () => void,
  ) {}

  share(): MemoryShare {
    let own = 0;
    return {
      allowance: () => this.ledger.budgetBytes - (this.ledger.total() - own),
      adjust: (delta) => {
        own += delta;
        Atomics.add(this.slots, this.slot, BigInt(Math.round(delta)));
        if (delta > 0 && this.ledger.excess() > 0) this.onExcess();
      },
      onRelease: (release) => {
        this.releasers.push(release);
      },
    };
  }

  /** Frees at least `bytes` from this thread's caches, where they hold that much; returns the bytes freed. */
  release(bytes: number): number {
    let freed = 0;
    for (const release of this.releasers) {
      if (freed >= bytes) break;
      freed += release(bytes - freed);
    }
    return freed;
  }
}

/** What `releases` needs to know of a thread. */
export interface ThreadHolding {
  readonly slot: number;
  /** Bytes its caches hold. */
  readonly held: number;
  /** It runs nothing now: what it holds is not in use. */
  readonly idle: boolean;
  /** When it last used its caches (any clock); lower is longer ago. */
  readonly lastUsed: number;
}

/**
 * Which threads give back how much when the caches hold `excess` bytes beyond the budget: idle ones
 * only (a busy one makes room itself before it grows), least recently used first, so what a client used
 * last stays warm.
 */
export function releases(excess: number, threads: readonly ThreadHolding[]): { slot: number; bytes: number }[] {
  const out: { slot: number; bytes: number }[] = [];
  let left = excess;
  for (const thread of [...threads].filter((t) => t.idle && t.held > 0).sort((p, q) => p.lastUsed - q.lastUsed)) {
    if (left <= 0) break;
    const bytes = Math.min(thread.held, left);
    out.push({ slot: thread.slot, bytes });
    left -= bytes;
  }
  return out;
}
