/**
 * Photoshop's modal state: held only while pixels are read or written, waited for politely when another
 * plugin or a dialog holds it, and its failures and cancels mapped to HostError.
 */
import type { PhotoshopModules, PsExecutionContext } from './ps-api.js';
import { HostError } from './types.js';

/** UXP's error number when another plugin (or a dialog) already holds the modal state. */
const MODAL_BUSY_ERROR_NUMBER = 9;

export interface ModalWaitOptions {
  /** How long to keep retrying when another plugin holds the modal state (ms, default 20 s). */
  readonly modalWaitMs?: number;
  /** Called while waiting for another plugin's modal state, so the panel can say so. */
  readonly onModalWait?: (waitedMs: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** executeAsModal, waiting politely (with backoff) while another plugin or a dialog holds the modal state. */
export async function executeAsModalPolitely<T>(
  core: PhotoshopModules['core'],
  commandName: string,
  fn: (context: PsExecutionContext) => Promise<T>,
  options: ModalWaitOptions,
): Promise<T> {
  const limit = options.modalWaitMs ?? 20_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let waited = 0;
  let delay = 100;
  while (true) {
    try {
      return await core.executeAsModal(fn, { commandName });
    } catch (error) {
      if (!isModalBusy(error)) throw mapHostError(error);
      if (waited >= limit) {
        throw new HostError(
          'MODAL_BUSY',
          `Photoshop stayed busy for ${Math.round(waited / 1000)} s (another plugin or an open dialog); close it and try again.`,
        );
      }
      options.onModalWait?.(waited);
      await sleep(delay);
      waited += delay;
      delay = Math.min(delay * 2, 2000);
    }
  }
}

function isModalBusy(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { number?: unknown; message?: unknown };
  return e.number === MODAL_BUSY_ERROR_NUMBER;
}

function mapHostError(error: unknown): unknown {
  if (error instanceof HostError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/cancel/i.test(message)) return new HostError('CANCELLED', 'Cancelled in Photoshop; nothing was changed.');
  return new HostError('HOST_FAILED', `Photoshop refused the operation: ${message}`);
}

export function checkCancel(context: PsExecutionContext, signal: AbortSignal | undefined): void {
  if (context.isCancelled) throw new HostError('CANCELLED', 'Cancelled in Photoshop; nothing was changed.');
  throwIfAborted(signal);
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
}
