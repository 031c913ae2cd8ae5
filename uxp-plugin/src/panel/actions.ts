/**
 * Long actions (imports, exports): one at a time, with progress and a cancel that reaches the engine job
 * and the host; the panel says what was done, or that nothing was, after a cancel or an error.
 */
import { EngineError, type Job, type JobMethod, type JobProgress, type MethodParams, type ResultFile } from '../../../engine/src/client/index.js';
import { HostError, type Pixels, type SaveTarget } from '../host/types.js';
import { decodePng } from '../model/pixels.js';
import type { PanelContext } from './context.js';

export class ActionRunner {
  private abort: AbortController | undefined;

  constructor(private readonly ctx: PanelContext) {}

  /**
   * Runs `fn` as the panel's one long action, labelled `label`; its result is the success message.
   * Refused (with a message) while another runs or while the engine is not connected.
   */
  async run(label: string, fn: (signal: AbortSignal) => Promise<string>): Promise<void> {
    const store = this.ctx.store;
    const state = store.state;
    if (state.busy) {
      store.update({ message: { tone: 'info', text: `Wait for “${state.busy.label}” to finish, or cancel it.` } });
      return;
    }
    if (state.connection !== 'connected') {
      store.update({ message: { tone: 'error', text: `${state.connectionView.label}. ${state.connectionView.fix}` } });
      return;
    }
    const controller = new AbortController();
    this.abort = controller;
    store.update({ busy: { label, fraction: undefined, detail: '' }, message: undefined });
    try {
      const done = await fn(controller.signal);
      store.update({ message: { tone: 'ok', text: done } });
    } catch (error) {
      if (controller.signal.aborted || isCancel(error)) {
        store.update({ message: { tone: 'info', text: 'Cancelled; nothing was imported or saved.' } });
      } else {
        store.fail(error);
      }
    } finally {
      this.abort = undefined;
      store.update({ busy: undefined });
    }
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** Shows what the running action is doing (no-op when none runs). */
  progress(detail: string, fraction: number | undefined, eta?: number): void {
    const busy = this.ctx.state.busy;
    if (!busy) return;
    const etaText = eta !== undefined && eta > 1 ? ` — about ${Math.round(eta)} s left` : '';
    this.ctx.store.update({ busy: { ...busy, detail: `${detail}${etaText}`, fraction } });
  }

  /** Submits an engine job, shows its progress, and cancels it when `signal` aborts. */
  /**
   * Asks where to save, before any work (a dismissed dialog costs nothing): the file, or undefined when the
   * dialog was dismissed or failed (the failure is shown, with what to do).
   */
  async chooseSaveFile(suggestedName: string, extensions: readonly string[]): Promise<SaveTarget | undefined> {
    try {
      return await this.ctx.host.chooseSaveFile(suggestedName, extensions);
    } catch (error) {
      this.ctx.store.fail(error);
      return undefined;
    }
  }

  async runJob<M extends JobMethod>(method: M, params: MethodParams<M>, signal: AbortSignal): Promise<Job> {
    if (signal.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    const onProgress = (p: JobProgress): void => this.progress(p.message ?? stageLabel(p.stage), p.fraction, p.etaSeconds);
    const handle = await this.ctx.client.submit(method, params, onProgress);
    const onAbort = (): void => void handle.cancel().catch(() => undefined);
    signal.addEventListener('abort', onAbort);
    try {
      return await handle.done;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** A result file's bytes, unless the action was cancelled first. */
  async download(file: ResultFile, signal: AbortSignal): Promise<Uint8Array> {
    if (signal.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    return this.ctx.client.download(file);
  }

  async downloadPixels(file: ResultFile, signal: AbortSignal): Promise<Pixels> {
    return decodePng(await this.download(file, signal));
  }

  /** The job's first result file; `missing` is the message when there is none. */
  firstFile(job: Job, missing: string): ResultFile {
    const file = job.result?.files[0];
    if (!file) throw new EngineError('INTERNAL', missing);
    return file;
  }
}

function isCancel(error: unknown): boolean {
  return (error instanceof HostError && error.code === 'CANCELLED') || (error instanceof EngineError && error.code === 'CANCELLED');
}

function stageLabel(stage: string): string {
  return stage.length > 0 ? stage.charAt(0).toUpperCase() + stage.slice(1) : 'Working';
}
