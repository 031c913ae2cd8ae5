/**
 * The benchmark table contract. A suite is a module in benchmarks/ listed in registry.ts; each of its
 * cases runs in its own child process (so peak RSS and JIT state never leak between cases) and returns
 * named measurements that the suite's columns display next to their targets.
 */
export type Unit = 's' | 'ms' | 'MB' | 'count';

export interface Column {
  /** Key into a case's measurements. */
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
}

export interface BenchmarkCase {
  readonly id: string;
  readonly label: string;
  /** Upper bounds ("at most") per measurement key, shown next to the value; `peakRss` is in MB. */
  readonly targets?: Readonly<Record<string, number>>;
  /**
   * Fresh processes the case runs in, one after another (default 1): a case of a second or two drifts by
   * 5-10% from run to run on a shared VM, so it is run several times and each measurement is the median.
   */
  readonly runs?: number;
  /** Why the case cannot run here (e.g. fixtures absent on a fresh clone), or undefined when it can. */
  unavailable?(): string | undefined;
  /** Runs the case once and returns its measurements (seconds for 's', milliseconds for 'ms'). */
  run(): Promise<Record<string, number>>;
}

export interface BenchmarkSuite {
  readonly id: string;
  readonly title: string;
  /** Measurements shown, in order; the runner appends engine CPU seconds (`cpu`) and peak RSS (`peakRss`, MB). */
  readonly columns: readonly Column[];
  readonly cases: readonly BenchmarkCase[];
}

/** What a child process prints as its last stdout line. */
export interface CaseResult {
  readonly suite: string;
  readonly case: string;
  readonly measurements: Record<string, number>;
  readonly error?: string;
  /** Set when the case could not run in this environment; not a failure. */
  readonly skipped?: string;
  /** Set when the measurements are medians of this many runs. */
  readonly runs?: number;
}
