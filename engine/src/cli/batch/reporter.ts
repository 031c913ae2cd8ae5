/**
 * What a batch prints. Text: one line per input as it ends (`[3/12] Wrote ...`, `Skipped ...`; failures
 * on stderr with their code and hint), one progress bar over the whole batch on stderr when it is a
 * terminal, and a summary. `--json`: JSON Lines on stdout, one object per input
 * (`{"type":"input","status":"written"|"skipped"|"failed"|"cancelled",...}`) and a last
 * `{"type":"summary",...}` line; nothing on stderr.
 */
import type { Progress } from '../../core/backend.js';
import type { JobOutput } from '../../jobs/run.js';
import type { ErrorReport } from '../errors.js';
import { barWanted, openBar, type Bar } from '../reporter.js';

export interface BatchCounts {
  readonly inputs: number;
  readonly written: number;
  readonly skipped: number;
  readonly failed: number;
  /** Not finished when the batch was cancelled (running ones included). */
  readonly left: number;
}

/** Bar resolution: the bar's value is the finished fraction of the batch in thousandths. */
const BAR_SCALE = 1000;

export class BatchReporter {
  private readonly json: boolean;
  private readonly command: string;
  /** Every entry that gets a line: inputs and arguments that matched nothing. */
  private readonly entries: number;
  private reported = 0;
  private bar: Bar | undefined;
  private toRun = 0;
  private finished = 0;
  private failedCount = 0;
  private readonly running = new Map<number, { name: string; fraction: number }>();
  private readonly leftOutPaths: string[] = [];

  constructor(options: { json: boolean; command: string; entries: number }) {
    this.json = options.json;
    this.command = options.command;
    this.entries = options.entries;
  }

  /** Opens the batch's progress bar (terminal only) over the `toRun` inputs that will be processed. */
  async begin(toRun: number): Promise<void> {
    this.toRun = toRun;
    if (toRun === 0 || !barWanted(this.json)) return;
    this.bar = await openBar(`${this.command} [{bar}] {percentage}% | {finished}/{count} images{failures} | {running}`, BAR_SCALE, this.payload());
  }

  started(id: number, name: string): void {
    this.running.set(id, { name, fraction: 0 });
    this.redraw();
  }

  progress(id: number, progress: Progress): void {
    const entry = this.running.get(id);
    if (entry) entry.fraction = progress.fraction;
    this.redraw();
  }

  notice(input: string, text: string): void {
    if (!this.json) this.printAboveBar(process.stderr, `paints-undo: ${input}: ${text}`);
  }

  /** A file found by expansion that lies inside one of this batch's output folders (an earlier result). */
  leftOut(input: string): void {
    this.leftOutPaths.push(input);
    if (!this.json) this.printAboveBar(process.stderr, `paints-undo: ${input}: left out: it is inside an output folder of this batch (an earlier result).`);
  }

  written(id: number, input: string, output: string, result: JobOutput, extra: Record<string, unknown>, sentence: string, notices: readonly string[]): void {
    this.ended(id);
    if (this.json) this.jsonLine({ type: 'input', status: 'written', ok: true, input, output, ...extra, ...result, notices });
    else this.printAboveBar(process.stdout, `${this.counter()} ${sentence}`);
  }

  skipped(input: string, output: string, outputDisplay: string): void {
    if (this.json) this.jsonLine({ type: 'input', status: 'skipped', ok: true, input, output, reason: 'output exists' });
    else this.printAboveBar(process.stdout, `${this.counter()} Skipped ${input}: ${outputDisplay} is already there (--force redoes it).`);
  }

  failed(id: number | undefined, input: string, output: string | undefined, error: ErrorReport): void {
    if (id !== undefined) this.ended(id);
    this.failedCount++;
    if (this.json) {
      this.jsonLine({ type: 'input', status: 'failed', ok: false, input, ...(output === undefined ? {} : { output }), error });
    } else {
      const hint = error.hint ? `\n  hint: ${error.hint}` : '';
      this.printAboveBar(process.stderr, `paints-undo: ${this.counter()} ${input} failed: error ${error.code}: ${error.message}${hint}`);
    }
  }

  cancelled(id: number, input: string, output: string): void {
    this.running.delete(id);
    if (this.json) this.jsonLine({ type: 'input', status: 'cancelled', ok: false, input, output });
  }

  /** The last words: the summary line (JSON) or sentence, and for a cancelled batch how to go on. */
  summary(counts: BatchCounts, cancelled: boolean, exitCode: number): void {
    this.closeBar();
    if (this.json) {
      this.jsonLine({ type: 'summary', ok: exitCode === 0, command: this.command, ...counts, cancelled, exitCode, ...(this.leftOutPaths.length > 0 ? { leftOut: this.leftOutPaths } : {}) });
      return;
    }
    const parts = `${counts.written} written, ${counts.skipped} skipped (already there), ${counts.failed} failed`;
    if (cancelled) {
      process.stderr.write(`paints-undo: batch cancelled: ${parts}, ${counts.left} left. Run the same command again to do the rest: finished outputs are skipped.\n`);
    } else {
      process.stdout.write(`Batch of ${counts.inputs} ${counts.inputs === 1 ? 'image' : 'images'}: ${parts}.${counts.failed > 0 ? ` Exit code ${exitCode}: see the errors above.` : ''}\n`);
    }
  }

  /** Stops drawing the bar (Ctrl+C: the cancelling message goes below it). */
  closeBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private ended(id: number): void {
    this.running.delete(id);
    this.finished++;
  }

  private counter(): string {
    this.reported++;
    return `[${this.reported}/${this.entries}]`;
  }

  private jsonLine(value: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(value)}\n`);
  }

  private payload(): Record<string, string | number> {
    const names = [...this.running.values()].map((r) => `${r.name} ${Math.round(r.fraction * 100)}%`);
    return {
      finished: this.finished,
      count: this.toRun,
      failures: this.failedCount > 0 ? `, ${this.failedCount} failed` : '',
      running: names.length > 2 ? `${names.slice(0, 2).join(', ')} +${names.length - 2}` : names.join(', '),
    };
  }

  private value(): number {
    if (this.toRun === 0) return 0;
    const partial = [...this.running.values()].reduce((sum, r) => sum + r.fraction, 0);
    return Math.min(BAR_SCALE, Math.round(((this.finished + partial) / this.toRun) * BAR_SCALE));
  }

  private redraw(): void {
    this.bar?.update(this.value(), this.payload());
  }

  /** Writes a line without tearing the bar: the bar is cleared, the line written, the bar drawn again. */
  private printAboveBar(stream: NodeJS.WriteStream, line: string): void {
    const bar = this.bar;
    bar?.stop();
    stream.write(`${line}\n`);
    bar?.start(BAR_SCALE, this.value(), this.payload());
  }
}
