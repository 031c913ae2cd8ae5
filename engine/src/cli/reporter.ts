/**
 * What the CLI prints while a job runs. On a TTY: a progress bar on stderr (cli-progress), notices on
 * stderr, a one-line summary on stdout. Not a TTY: no progress, notices and summary only. `--json`:
 * exactly one JSON object on stdout, nothing else.
 */
import type { Progress } from '../core/backend.js';

interface Bar {
  start(total: number, value: number, payload?: object): void;
  update(value: number, payload?: object): void;
  stop(): void;
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
    return !this.json && process.stderr.isTTY === true;
  }

  async start(label: string): Promise<void> {
    if (!this.interactive || this.bar || this.barFailed) return;
    try {
      const { default: cliProgress } = await import('cli-progress');
      const bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% {stage} {message}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(100, 0, { stage: 'starting', message: '' });
      this.bar = bar;
    } catch {
      this.barFailed = true;
    }
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
