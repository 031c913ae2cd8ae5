/**
 * One open timeline editor: answers the webview's requests (frames for the slider, exports) with the
 * engine's help, and pushes engine state changes to it. Plain TypeScript: the vscode adapter supplies
 * a `SessionHost` (dialogs, progress, file writes, posting to the webview).
 *
 * The source image is never written: it is read (by path for a local engine, as bytes otherwise) and
 * every output goes where the user chose in a save dialog, by default next to the source.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { EngineError, type EngineClient, type EngineInfo, type Job, type ResultFile } from '../../../engine/src/client/index.js';
import type { EngineStatus } from './engine-manager.js';
import {
  EXTENSION_ERROR_CODES,
  WebviewMessageSchema,
  type BackendChoice,
  type ErrorInfo,
  type ExportSpec,
  type HostMessage,
  type ResultMap,
  type RequestType,
  type WebviewMessage,
} from './messages.js';
import type { Settings } from './settings.js';

/** What a session needs from the engine manager. */
export interface EngineAccess {
  client(): Promise<EngineClient>;
  readonly generation: number;
  readonly state: EngineStatus;
  onDidChangeState(listener: (status: EngineStatus) => void): () => void;
  restart(): Promise<EngineInfo>;
}

export interface ProgressReporter {
  /** `fraction` 0..1 of the whole job. */
  report(fraction: number, message: string): void;
  /** Registers what to do when the user presses Cancel on the notification. */
  onCancel(listener: () => void): void;
}

export interface SaveFilter {
  readonly name: string;
  readonly extensions: readonly string[];
}

/** The editor's services, as plain functions over absolute file-system paths. */
export interface SessionHost {
  post(message: HostMessage): void;
  showSaveDialog(options: { readonly defaultPath: string; readonly title: string; readonly filters: readonly SaveFilter[] }): Promise<string | undefined>;
  showFolderDialog(options: { readonly defaultPath: string; readonly title: string }): Promise<string | undefined>;
  withProgress<T>(title: string, task: (progress: ProgressReporter) => Promise<T>): Promise<T>;
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Asks (modally) whether to replace existing files; true when the user chose to. */
  confirmReplace(message: string): Promise<boolean>;
  /** Reads the source image (for engines that do not share this machine's file system). */
  readSource(): Promise<Uint8Array>;
  /** The source image's size in bytes, without reading it. */
  sourceSize(): Promise<number>;
  showInfo(message: string): void;
  showError(message: string): void;
}

export interface SessionOptions {
  /** Absolute path of the source image (undefined for a non-file document: the bytes are uploaded). */
  readonly sourcePath: string | undefined;
  readonly fileName: string;
  /**
   * Asked before this editor restarts the engine, which stops every export running in any editor: true
   * to go on (nothing runs, or the user said so).
   */
  readonly confirmRestart: () => Promise<boolean>;
  /** Absolute folder the export dialogs open in (asked at each export): the source's own for a file, another on disk for a non-file document. */
  readonly exportFolder: () => string;
  readonly engine: EngineAccess;
  readonly host: SessionHost;
  readonly settings: () => Settings;
  readonly log: (line: string) => void;
  /** Names this editor's slider for the engine's supersession (unique per open editor). */
  readonly sliderName: string;
}

interface LoadedImage {
  readonly id: string;
  readonly width: number;
  readonly height: number;
  /** What decoding changed or found (image.put's notices). */
  readonly notices: readonly string[];
  readonly generation: number;
}

const FORMAT_FILTERS: Readonly<Record<'mp4' | 'webm' | 'gif', SaveFilter>> = {
  mp4: { name: 'MP4 video (H.264)', extensions: ['mp4'] },
  webm: { name: 'WebM video', extensions: ['webm'] },
  gif: { name: 'GIF animation', extensions: ['gif'] },
};

export class TimelineSession {
  private readonly options: SessionOptions;
  private image: LoadedImage | undefined;
  private loading: Promise<LoadedImage> | undefined;
  /** Cancels for the webview's unfinished requests, by requestId. */
  private readonly inflight = new Map<number, () => void>();
  /** Export requests between their dialog and their last file (a restart would stop them). */
  private readonly exporting = new Set<number>();
  private readonly unsubscribe: () => void;
  private disposed = false;

  constructor(options: SessionOptions) {
    this.options = options;
    this.unsubscribe = options.engine.onDidChangeState((status) => this.post({ type: 'engine', state: status.state, ...(status.message ? { message: status.message } : {}) }));
  }

  /** Entry point for every message from the webview (unvalidated). */
  handle(raw: unknown): void {
    const parsed = WebviewMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const requestId = typeof raw === 'object' && raw !== null && typeof (raw as { requestId?: unknown }).requestId === 'number' ? (raw as { requestId: number }).requestId : undefined;
      const detail = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
      this.options.log(`[extension] bad message from the webview: ${detail}`);
      if (requestId !== undefined) this.fail(requestId, { code: 'BAD_MESSAGE', message: `${EXTENSION_ERROR_CODES.BAD_MESSAGE} (${detail})` });
      return;
    }
    void this.dispatch(parsed.data);
  }

  /**
   * The source file changed on disk: upload it again and show it (the webview drops its frames on init).
   * The engine keys images by their pixels, so a save that changed nothing visible costs nothing.
   */
  async sourceChanged(): Promise<void> {
    if (this.disposed) return;
    this.options.log(`[extension] ${this.options.fileName} changed on disk: loading it again`);
    await this.loading?.catch(() => undefined);
    this.image = undefined;
    await this.sendInit();
  }

  /** Cancels unfinished jobs of this editor; called when the editor closes. */
  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    for (const cancel of this.inflight.values()) cancel();
    this.inflight.clear();
  }

  // -------------------------------------------------------------------------------------------

  private async dispatch(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        await this.sendInit();
        return;
      case 'frame':
        return this.answer('frame', message.requestId, () => this.frame(message.requestId, message.step, message.seed, message.backend, message.size));
      case 'export':
        this.exporting.add(message.requestId);
        return this.answer('export', message.requestId, () => this.export(message.requestId, message.seed, message.backend, message.spec)).finally(() => this.exporting.delete(message.requestId));
      case 'cancel':
        this.inflight.get(message.target)?.();
        return this.answer('cancel', message.requestId, () => Promise.resolve({}));
      case 'restartEngine':
        return this.answer('restartEngine', message.requestId, async () => {
          if (!(await this.options.confirmRestart())) throw new EngineError('CANCELLED', 'The engine was not restarted; the exports go on.');
          this.image = undefined;
          await this.options.engine.restart();
          // The editor showed init's error; the restart's reply says it too, so the webview does not
          // report a restart that did not bring the image back.
          const failed = await this.sendInit();
          if (failed) throw new EngineError(failed.code, failed.message, failed.hint === undefined ? {} : { hint: failed.hint });
          return {};
        });
    }
  }

  /** Exports this editor is running. */
  get exportsRunning(): number {
    return this.exporting.size;
  }

  private async answer<K extends RequestType>(type: K, requestId: number, work: () => Promise<ResultMap[K]>): Promise<void> {
    try {
      const result = await work();
      this.post({ type: 'reply', requestId, ok: true, result });
    } catch (error) {
      const info = toErrorInfo(error);
      if (info.code !== 'CANCELLED') this.options.log(`[extension] ${type} failed: ${info.code}: ${info.message}`);
      this.fail(requestId, info);
    } finally {
      this.inflight.delete(requestId);
    }
  }

  private fail(requestId: number, error: ErrorInfo): void {
    this.post({ type: 'reply', requestId, ok: false, error });
  }

  private post(message: HostMessage): void {
    if (this.disposed) return;
    try {
      this.options.host.post(message);
    } catch (error) {
      // The webview went away between our check and the post; nothing is waiting for this message.
      this.options.log(`[extension] could not post to the webview: ${String(error)}`);
    }
  }

  /** Tells the webview the image and engine it works with; returns the error it was told instead, if loading failed. */
  private async sendInit(): Promise<ErrorInfo | undefined> {
    const settings = this.options.settings();
    const defaults = {
      seed: settings.seed,
      backend: settings.backend,
      format: settings['timelapse.format'],
      frames: settings['timelapse.frames'],
      fps: settings['timelapse.fps'],
      size: settings['timelapse.size'],
    };
    const base = { type: 'init' as const, fileName: this.options.fileName, defaults };
    try {
      const client = await this.options.engine.client();
      const image = await this.loadImage(client);
      const status = this.options.engine.state;
      this.post({ ...base, image: { width: image.width, height: image.height, notices: [...image.notices] }, backends: backendsOf(client.info), engine: { state: status.state, ...(status.message ? { message: status.message } : {}) } });
      return undefined;
    } catch (error) {
      const status = this.options.engine.state;
      const info = toErrorInfo(error);
      this.post({ ...base, image: null, backends: [], engine: { state: status.state, ...(status.message ? { message: status.message } : {}) }, error: info });
      return info;
    }
  }

  /** Puts the image into the engine once per engine generation (re-uploading identical pixels is free). */
  private async loadImage(client: EngineClient, force = false): Promise<LoadedImage> {
    const generation = this.options.engine.generation;
    if (!force && this.image && this.image.generation === generation) return this.image;
    if (!force && this.loading) return this.loading;
    this.loading = (async () => {
      const put =
        this.options.sourcePath && client.info?.transport === 'stdio'
          ? await client.call('image.put', { path: this.options.sourcePath })
          : await client.putImage(await this.readUpload(client));
      this.options.log(`[extension] image ${this.options.fileName}: ${put.width}x${put.height} ${put.reused ? '(already in the engine)' : ''}`);
      for (const notice of put.notices) this.options.log(`[extension] ${this.options.fileName}: ${notice}`);
      const image = { id: put.image, width: put.width, height: put.height, notices: put.notices, generation };
      this.image = image;
      return image;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** The source's bytes for an upload, refused before they are read when the engine would refuse them. */
  private async readUpload(client: EngineClient): Promise<Uint8Array> {
    const limit = client.info?.limits.maxUploadBytes;
    const size = await this.options.host.sourceSize();
    if (limit !== undefined && size > limit) {
      const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
      throw new EngineError('INPUT_TOO_LARGE', `${this.options.fileName} is ${mb(size)}; the engine takes uploads of up to ${mb(limit)}.`, {
        hint: 'Open a smaller copy of the image (or a file on this machine), or start the engine with a higher --max-upload-mb.',
      });
    }
    return this.options.host.readSource();
  }

  /** Runs a job, re-uploading the image once if the engine no longer knows it (cache evicted). */
  private async withImage<T>(work: (client: EngineClient, image: string) => Promise<T>): Promise<T> {
    const client = await this.options.engine.client();
    const image = await this.loadImage(client);
    try {
      return await work(client, image.id);
    } catch (error) {
      if (error instanceof EngineError && error.code === 'NOT_FOUND') {
        const again = await this.loadImage(client, true);
        return work(client, again.id);
      }
      throw error;
    }
  }

  /** `size`: the long side the webview shows the frame at; the engine renders only those pixels. */
  private async frame(requestId: number, step: number, seed: number, backend: string, size: number | undefined): Promise<ResultMap['frame']> {
    return this.withImage(async (client, image) => {
      const handle = await client.submit('frame', { image, step, seed, backend, slider: this.options.sliderName, ...(size === undefined ? {} : { size }) });
      this.inflight.set(requestId, () => void handle.cancel().catch(() => undefined));
      const job = await handle.done;
      const file = job.result?.files.find((f) => f.mime === 'image/png') ?? job.result?.files[0];
      if (!file) throw new EngineError('INTERNAL', `The engine finished frame job ${job.id} without a file.`);
      return { step, png: await this.fetchFile(client, file), cached: job.result?.cached ?? false };
    });
  }

  private async fetchFile(client: EngineClient, file: ResultFile): Promise<Uint8Array<ArrayBuffer>> {
    // Copies into a plain ArrayBuffer: Node's Buffers may share a pooled one, which must not be posted.
    if (file.path) return new Uint8Array(await readFile(file.path));
    return new Uint8Array(await client.download(file));
  }

  private async export(requestId: number, seed: number, backend: string, spec: ExportSpec): Promise<ResultMap['export']> {
    const dir = this.options.exportFolder();
    const stem = basename(this.options.fileName, extname(this.options.fileName));
    let destination: string | undefined;
    let title: string;
    if (spec.what === 'timelapse') {
      title = `Export ${spec.format.toUpperCase()} timelapse of ${this.options.fileName}`;
      destination = await this.options.host.showSaveDialog({ title, defaultPath: join(dir, `${stem}-timelapse.${spec.format}`), filters: [FORMAT_FILTERS[spec.format]] });
    } else if (spec.what === 'layers') {
      title = `Export process layers of ${this.options.fileName}`;
      destination = await this.options.host.showSaveDialog({ title, defaultPath: join(dir, `${stem}-layers.psd`), filters: [{ name: 'Photoshop document (layers)', extensions: ['psd'] }] });
    } else {
      title = `Export ${spec.steps.length} keyframes of ${this.options.fileName}`;
      destination = await this.options.host.showFolderDialog({ title, defaultPath: dir });
    }
    if (!destination) return { saved: null };
    const target = destination;
    // Never over the image being shown; keyframes replace files of their names only once the user says so.
    const paths = spec.what === 'keyframes' ? spec.steps.map((step) => join(target, keyframeName(stem, step))) : [target];
    for (const path of paths) this.refuseSource(path, target);
    if (spec.what === 'keyframes') {
      const existing = paths.filter((path) => existsSync(path));
      const replace = existing.length === 0 || (await this.options.host.confirmReplace(`${existing.length === 1 ? `${basename(existing[0]!)} already exists` : `${existing.length} of the ${paths.length} keyframe files already exist`} in ${target}. Replace ${existing.length === 1 ? 'it' : 'them'}?`));
      if (!replace) return { saved: null };
    }
    // Cancelled from the notification, or the editor closed: nothing is written from then on.
    let cancelled = false;
    const stopped = (): boolean => cancelled || this.disposed;

    const saved = await this.options.host.withProgress(title, async (progress) => {
      const job = await this.withImage(async (client, image) => {
        const onProgress = (p: { fraction: number; stage: string; message?: string | undefined }): void => {
          progress.report(p.fraction, p.message ?? p.stage);
          this.post({ type: 'progress', requestId, fraction: p.fraction, stage: p.stage });
        };
        const handle =
          spec.what === 'timelapse'
            ? await client.submit('timelapse', { image, seed, backend, format: spec.format, frames: spec.frames, fps: spec.fps, label: spec.label, ...(spec.size ? { size: spec.size } : {}) }, onProgress)
            : spec.what === 'layers'
              ? await client.submit('layers', { image, seed, backend, format: 'psd' }, onProgress)
              : await client.submit('keyframes', { image, seed, backend, steps: spec.steps }, onProgress);
        const cancel = (): void => {
          cancelled = true;
          void handle.cancel().catch(() => undefined);
        };
        // The editor closed while the job was being submitted: it never ran for anyone.
        if (this.disposed) cancel();
        // The dialog is closed and the job queued: say so before the engine's first progress event.
        onProgress({ fraction: 0, stage: 'queued' });
        this.inflight.set(requestId, cancel);
        progress.onCancel(cancel);
        return { client, job: await handle.done };
      });
      return this.saveResult(job.client, job.job, spec, target, stem, stopped);
    });
    this.options.host.showInfo(saved.length === 1 ? `PaintsUndo: saved ${saved[0] ?? ''}` : `PaintsUndo: saved ${saved.length} files in ${target}`);
    return { saved };
  }

  /** Refuses an export file `path` (into `target`, what the user chose) that is the image this editor shows. */
  private refuseSource(path: string, target: string): void {
    if (!this.options.sourcePath || !sameFile(path, this.options.sourcePath)) return;
    throw new EngineError('OUTPUT_NOT_WRITABLE', `${target} is the image this editor shows; an export never replaces it.`, { hint: 'Choose another name or folder for the export.' });
  }

  /** Writes the job's files; `stopped` (a cancel, or the editor closed) is looked at before each file is fetched and written. */
  private async saveResult(client: EngineClient, job: Job, spec: ExportSpec, target: string, stem: string, stopped: () => boolean): Promise<string[]> {
    const files = job.result?.files ?? [];
    if (files.length === 0) throw new EngineError('INTERNAL', `The engine finished ${job.kind} job ${job.id} without files.`);
    const write = async (path: string, file: ResultFile, saved: readonly string[]): Promise<void> => {
      const check = (): void => {
        if (!stopped()) return;
        const kept = saved.length === 0 ? 'nothing was saved' : `only ${saved.join(', ')} ${saved.length === 1 ? 'was' : 'were'} saved`;
        throw new EngineError('CANCELLED', `Export cancelled: ${kept}.`);
      };
      check();
      const bytes = await this.fetchFile(client, file);
      check();
      await this.options.host.writeFile(path, bytes);
    };
    if (spec.what !== 'keyframes') {
      const file = files[0];
      if (!file) throw new EngineError('INTERNAL', `No result file in job ${job.id}.`);
      await write(target, file, []);
      return [target];
    }
    const saved: string[] = [];
    for (const file of files) {
      const path = join(target, `${stem}-${file.name}`);
      this.refuseSource(path, target);
      await write(path, file, saved);
      saved.push(path);
    }
    return saved;
  }
}

/** The file a keyframe at `step` is saved as (the engine names it step-NNNN.png; the source's name goes first). */
function keyframeName(stem: string, step: number): string {
  return `${stem}-step-${String(step).padStart(4, '0')}.png`;
}

/** Whether two paths name the same file (links and case-insensitive file systems included); false when either does not exist. */
function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

export function backendsOf(info: EngineInfo | undefined): BackendChoice[] {
  return (info?.backends ?? [])
    .filter((b) => b.capabilities.frame)
    .map((b) => ({ id: b.id, displayName: b.displayName, timelapse: b.capabilities.timelapse, keyframes: b.capabilities.keyframes, layers: b.capabilities.layers }));
}

export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof EngineError) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return { code: (error as Error & { code: string }).code, message: error.message };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
