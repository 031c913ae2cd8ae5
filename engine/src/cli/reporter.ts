/**
 * What the CLI prints while a job runs. On a TTY: a progress bar on stderr (cli-progress), notices on
 * stderr, a one-line summary on stdout. Not a TTY: no progress, notices and summary only. `--json`:
 * exactly one JSON object on stdout, nothing else.
 */
import type { Progress } from '../core/backend.js';

export interface Bar {
  start(total: number, value: number, payload?: object): void;
  update(value: number, payload?: object): void;
  stop(): void;
}

/** Whether a progress bar may be drawn: not with --json, and only when stderr is a terminal. */
export function barWanted(json: boolean): boolean {
  return !json && process.stderr.isTTY === true;
}

/**
 * A started progress bar on stderr (cli-progress) with `format`, or undefined when cli-progress cannot be
 * loaded (the job runs on without a bar). `{bar}` and `{percentage}` are cli-progress's own tokens.
 */
export async function openBar(format: string, total: number, payload: object): Promise<Bar | undefined> {
  try {
    const { default: cliProgress } = await import('cli-progress');
    const bar = new cliProgress.SingleBar(
      { format, stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, payload);
    return bar;
  } catch {
    return undefined;
  }
}

export class Reporter {
  readonly json: boolean;
  private bar: Bar | undefined;
  private barFailed = false;
  private readonly notices: string[] = [];

  constructor(options: { json: boolean }) {
    this.json = options.json;
  }

  get interactive(): boolean {
    return barWanted(this.json);
  }

  async start(label: string): Promise<void> {
    if (!this.interactive || this.bar || this.barFailed) return;
    this.bar = await openBar(`${label} [{bar}] {percentage}% {stage} {message}`, 100, { stage: 'starting', message: '' });
    this.barFailed = this.bar === undefined;
  }

  progress(progress: Progress): void {
    this.bar?.update(Math.round(progress.fraction * 100), { stage: progress.stage, message: progress.message ?? '' });
  }

  notice(text: string): void {
    this.notices.push(text);
    if (this.json) return;
    this.stopBar();
    process.stderr.write(`paints-undo: ${text}\n`);
  }

  stopBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** Prints the result: the JSON object, or the human lines. */
  done(result: Record<string, unknown>, lines: readonly string[]): void {
    this.stopBar();
    if (this.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, ...result, notices: this.notices })}\n`);
    } else {
      for (const line of lines) process.stdout.write(`${line}\n`);
    }
  }
}
