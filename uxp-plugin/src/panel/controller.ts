/**
 * The panel's brain, free of DOM and of Photoshop: it owns the observable state the view renders, talks to
 * the engine ONLY through the typed EngineClient, and to Photoshop only through PhotoshopHost.
 *
 * Rules it keeps:
 * - the modal state is held only while the host reads or writes pixels: engine work happens outside it;
 * - the slider goes through a Scrubber (debounced, superseded, cached) on a preview-sized upload; imports
 *   and exports use a separate upload at the output size the user picked;
 * - every long action has progress and a cancel that reaches the engine job and the host, and nothing is
 *   half-imported after a cancel or an error.
 */
import {
  DEFAULT_PORT,
  EngineClient,
  EngineError,
  webSocketTransport,
  type EngineInfo,
  type Job,
  type JobMethod,
  type JobProgress,
  type MethodParams,
  type ResultFile,
  type WebSocketConstructor,
} from '../../../engine/src/client/index.js';
import { DEFAULT_KEYFRAME_STEPS, MAX_STEP } from '../../../engine/src/core/steps.js';
import { DEFAULT_SEED } from '../../../engine/src/core/job.js';
import { HostError, type DocumentInfo, type PhotoshopHost, type Pixels, type SourceKind } from '../host/types.js';
import { describeConnection, type ConnectionView, type PanelConnectionState } from '../model/connection.js';
import { keyframesPlan, processLayersPlan, singleStepPlan, documentBaseName, type SourceRegion, type StepFrame } from '../model/import-plan.js';
import { bytesToBase64, decodePng, encodePng } from '../model/pixels.js';
import { pickHistoryStates, recordedSequence } from '../model/history.js';
import { Scrubber } from '../model/scrubber.js';

export const TOKEN_KEY = 'paints-undo.engine-token';
export const PANEL_VERSION = '0.1.0';
/** Long side of the image the slider works on: big enough to judge, small enough to stay instant. */
export const PREVIEW_SIZE = 768;
export const OUTPUT_SIZES = [1024, 2048, 4096] as const;
/** History timelapses: how many states at most (the engine takes 600), their default long side, and an fps cap. */
export const HISTORY_MAX_FRAMES = 300;
export const HISTORY_SIZE = 720;
export const HISTORY_MAX_FPS = 30;
/** Generated lead-in frames: blank canvas to the first recorded state. */
export const HISTORY_LEAD_FRAMES = 10;

export interface BackendChoice {
  readonly id: string;
  readonly name: string;
  readonly layers: boolean;
  readonly timelapse: boolean;
}

export interface TimelapseSettings {
  format: 'mp4' | 'webm' | 'gif';
  frames: number;
  fps: number;
  /** Long side in px; undefined = the engine's default (input size, capped at 1920). */
  size: number | undefined;
  label: boolean;
}

export interface PanelMessage {
  readonly tone: 'info' | 'ok' | 'error';
  readonly text: string;
}

export interface BusyState {
  readonly label: string;
  readonly fraction: number | undefined;
  readonly detail: string;
}

export interface PanelState {
  connection: PanelConnectionState;
  connectionView: ConnectionView;
  engineVersion: string | undefined;
  backends: BackendChoice[];
  backend: string;
  seed: number;
  document: DocumentInfo | undefined;
  source: SourceKind;
  /** Long side for imports and exports; 0 = full resolution. */
  outputSize: number;
  step: number;
  preview: { step: number; url: string; cached: boolean } | undefined;
  previewPending: boolean;
  busy: BusyState | undefined;
  message: PanelMessage | undefined;
  timelapse: TimelapseSettings;
  keyframeSteps: number[];
  /** Timelapse from History: start with generated frames (blank canvas → first recorded state). */
  historyLead: boolean;
}

export interface ControllerOptions {
  readonly host: PhotoshopHost;
  /** Default http://127.0.0.1:7439: it must match the manifest's network.domains. */
  readonly baseUrl?: string;
  readonly WebSocket?: WebSocketConstructor;
  readonly fetch?: typeof fetch;
  readonly debounceMs?: number;
  /**
   * Turns encoded image bytes into an <img> src. Default: a data URL. UXP passes ImageBlob +
   * URL.createObjectURL (its image elements do not take every data URL); `revokeImageUrl` frees them.
   */
  readonly imageUrl?: (bytes: Uint8Array, mime: string) => string;
  readonly revokeImageUrl?: (url: string) => void;
}

interface Upload {
  readonly key: string;
  readonly image: string;
  readonly region: SourceRegion;
}

type Listener = (state: Readonly<PanelState>) => void;

export class PanelController {
  readonly state: PanelState;
  private readonly host: PhotoshopHost;
  private readonly client: EngineClient;
  private readonly port: number;
  private readonly listeners = new Set<Listener>();
  private readonly scrubber: Scrubber<string>;
  private token: string | undefined;
  private previewUpload: Upload | undefined;
  private outputUpload: Upload | undefined;
  private abort: AbortController | undefined;
  private readonly imageUrl: (bytes: Uint8Array, mime: string) => string;
  private readonly revokeImageUrl: ((url: string) => void) | undefined;

  constructor(options: ControllerOptions) {
    this.host = options.host;
    this.imageUrl = options.imageUrl ?? ((bytes, mime) => `data:${mime};base64,${bytesToBase64(bytes)}`);
    this.revokeImageUrl = options.revokeImageUrl;
    const baseUrl = options.baseUrl ?? `http://127.0.0.1:${DEFAULT_PORT}`;
    this.port = Number(new URL(baseUrl).port) || DEFAULT_PORT;
    this.client = new EngineClient({
      transport: webSocketTransport({ baseUrl, ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}) }),
      token: () => this.token,
      clientName: `photoshop-panel/${PANEL_VERSION}`,
      reconnect: { initialDelayMs: 300, maxDelayMs: 3000 },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.state = {
      connection: 'connecting',
      connectionView: describeConnection('connecting', this.port),
      engineVersion: undefined,
      backends: [{ id: 'classic', name: 'Classic (no model)', layers: true, timelapse: true }],
      backend: 'classic',
      seed: DEFAULT_SEED,
      document: undefined,
      source: 'document',
      outputSize: 2048,
      step: 500,
      preview: undefined,
      previewPending: false,
      busy: undefined,
      message: undefined,
      timelapse: { format: 'mp4', frames: 100, fps: 25, size: undefined, label: true },
      keyframeSteps: [...DEFAULT_KEYFRAME_STEPS],
      historyLead: true,
    };
    this.scrubber = new Scrubber<string>({
      debounceMs: options.debounceMs ?? 60,
      cacheSize: 96,
      fetchFrame: (step, signal) => this.fetchPreview(step, signal),
      onFrame: (step, url, cached) => this.update({ preview: { step, url, cached } }),
      onError: (_step, error) => this.fail(error),
      onPending: (pending) => this.update({ previewPending: pending }),
      onEvict: (url) => this.revokeImageUrl?.(url),
    });
    this.client.onStateChange((s) => this.onConnection(s));
  }

  get engine(): EngineClient {
    return this.client;
  }

  get scrubStats(): Scrubber<string>['stats'] {
    return this.scrubber.stats;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** Reads the stored token and connects; without a token the panel asks for pairing. */
  async start(): Promise<void> {
    this.token = await this.host.readSecret(TOKEN_KEY);
    await this.refreshDocument();
    if (!this.token) {
      this.setConnection('unpaired');
      return;
    }
    await this.connect();
  }

  /** Stores the token the user pasted (once) and connects with it. */
  async pair(token: string): Promise<void> {
    const t = token.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(t)) {
      this.update({ message: { tone: 'error', text: 'That is not a pairing token: it is 64 hexadecimal characters, printed by `paints-undo serve`.' } });
      return;
    }
    this.token = t;
    await this.host.writeSecret(TOKEN_KEY, t);
    this.update({ message: undefined });
    this.client.close();
    await this.connect();
  }

  async forgetToken(): Promise<void> {
    this.token = undefined;
    await this.host.removeSecret(TOKEN_KEY);
    this.client.close();
    this.setConnection('unpaired');
  }

  async connect(): Promise<void> {
    try {
      const info = await this.client.connect();
      this.onInfo(info);
    } catch {
      // The state (and its fix) is already shown; the client keeps retrying when that makes sense.
    }
  }

  dispose(): void {
    this.abort?.abort();
    this.scrubber.reset();
    this.client.close();
    this.listeners.clear();
  }

  async refreshDocument(): Promise<void> {
    const document = await this.host.activeDocument();
    const changed = document?.id !== this.state.document?.id || document?.activeHistoryId !== this.state.document?.activeHistoryId;
    this.update({ document });
    if (changed) this.invalidateSource();
  }

  setSource(source: SourceKind): void {
    if (source === this.state.source) return;
    this.update({ source });
    this.invalidateSource();
  }

  setBackend(id: string): void {
    if (!this.state.backends.some((b) => b.id === id) || id === this.state.backend) return;
    this.update({ backend: id });
    this.resetFrames();
  }

  setSeed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff || seed === this.state.seed) return;
    this.update({ seed });
    this.resetFrames();
  }

  /** A different but equally plausible drawing order. */
  newVariation(): void {
    this.setSeed((this.state.seed * 1103515245 + 12345) % 0x7fffffff);
  }

  setOutputSize(size: number): void {
    this.update({ outputSize: size });
    this.outputUpload = undefined;
  }

  setTimelapse(settings: Partial<TimelapseSettings>): void {
    this.update({ timelapse: { ...this.state.timelapse, ...settings } });
  }

  setHistoryLead(on: boolean): void {
    this.update({ historyLead: on });
  }

  setKeyframeSteps(steps: number[]): void {
    const clean = [...new Set(steps.filter((s) => Number.isInteger(s) && s >= 0 && s <= MAX_STEP))].sort((a, b) => a - b);
    if (clean.length > 0) this.update({ keyframeSteps: clean });
  }

  /** Slider, numeric field and arrow keys all end here. */
  setStep(step: number): void {
    const s = Math.max(0, Math.min(MAX_STEP, Math.round(step)));
    this.update({ step: s });
    if (this.state.connection !== 'connected' || !this.state.document) return;
    this.scrubber.request(s);
  }

  nudge(delta: number): void {
    this.setStep(this.state.step + delta);
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** A passing note from the host (e.g. waiting for another plugin's modal state). */
  notify(text: string): void {
    this.update({ message: { tone: 'info', text } });
  }

  // --- actions ----------------------------------------------------------------------------------

  async addStepAsLayer(): Promise<void> {
    const step = this.state.step;
    await this.action(`Adding step ${step} as a layer`, async (signal) => {
      const upload = await this.ensureUpload('output', signal);
      const job = await this.runJob('frame', { image: upload.image, step, backend: this.state.backend, seed: this.state.seed }, signal);
      const file = job.result?.files[0];
      if (!file) throw new EngineError('INTERNAL', 'The engine finished without a frame file; retry, and report it with the engine log if it persists.');
      const pixels = await this.downloadPixels(file, signal);
      this.progress('Writing the layer', undefined);
      await this.host.importLayers(singleStepPlan(upload.region, { step, pixels }), signal);
      return `Added “Step ${step}” above ${upload.region.source === 'layer' ? 'its layer' : 'the layers'}.`;
    });
  }

  async importKeyframes(): Promise<void> {
    const steps = this.state.keyframeSteps;
    await this.action(`Importing ${steps.length} keyframes`, async (signal) => {
      const upload = await this.ensureUpload('output', signal);
      const job = await this.runJob('keyframes', { image: upload.image, steps, backend: this.state.backend, seed: this.state.seed }, signal);
      const frames: StepFrame[] = [];
      const files = job.result?.files ?? [];
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        if (!file) continue;
        this.progress(`Downloading frame ${i + 1} of ${files.length}`, (i + 1) / files.length);
        const step = file.step ?? stepFromName(file.name);
        if (step === undefined) continue;
        frames.push({ step, pixels: await this.downloadPixels(file, signal) });
      }
      if (frames.length !== steps.length) {
        throw new EngineError('INTERNAL', `The engine returned ${frames.length} of ${steps.length} keyframes; nothing was imported. Retry.`);
      }
      this.progress('Writing layers', 0);
      const plan = keyframesPlan(upload.region, frames);
      await this.host.importLayers(plan, signal, (p) => this.progress('Writing layers', p.fraction));
      return `Imported ${frames.length} keyframes into “${plan.groupName ?? ''}” (one Ctrl+Z undoes it).`;
    });
  }

  async importProcessLayers(): Promise<void> {
    await this.action('Importing process layers', async (signal) => {
      const backend = this.state.backends.find((b) => b.id === this.state.backend);
      if (backend && !backend.layers) {
        throw new EngineError('UNSUPPORTED', `The ${backend.name} backend cannot split an image into process layers; choose Classic.`);
      }
      const upload = await this.ensureUpload('output', signal);
      const job = await this.runJob('layers', { image: upload.image, backend: this.state.backend, seed: this.state.seed, format: 'png' }, signal);
      const layers: { name: string; pixels: Pixels }[] = [];
      // One PNG per layer, named "01-sketch.png"… in paint order, plus the composite (not a layer).
      const files = (job.result?.files ?? []).filter((f) => f.mime === 'image/png' && f.name !== 'composite.png');
      for (const file of files) {
        layers.push({ name: layerNameFromFile(file.name), pixels: await this.downloadPixels(file, signal) });
      }
      // The engine lists layers bottom-up (paint order); the plan wants the top first.
      layers.reverse();
      await this.host.importLayers(processLayersPlan(upload.region, layers), signal, (p) => this.progress('Writing layers', p.fraction));
      return `Imported ${layers.length} process layers.`;
    });
  }

  async exportTimelapse(): Promise<void> {
    const t = this.state.timelapse;
    const doc = this.state.document;
    const name = `${documentBaseName(doc?.title ?? 'artwork')}-process.${t.format}`;
    const target = await this.host.chooseSaveFile(name, [t.format]);
    if (!target) return;
    await this.action(`Rendering the ${t.format.toUpperCase()} timelapse`, async (signal) => {
      const upload = await this.ensureUpload('output', signal);
      const job = await this.runJob(
        'timelapse',
        {
          image: upload.image,
          backend: this.state.backend,
          seed: this.state.seed,
          format: t.format,
          frames: t.frames,
          fps: t.fps,
          ...(t.size ? { size: t.size } : {}),
          label: t.label,
        },
        signal,
      );
      const file = job.result?.files[0];
      if (!file) throw new EngineError('INTERNAL', 'The engine finished without a video file; retry.');
      this.progress('Saving', undefined);
      const bytes = await this.client.download(file);
      await target.write(bytes);
      return `Saved ${target.name} (${Math.round(bytes.length / 1024)} KB), labelled as a generated reconstruction.`;
    });
  }

  /**
   * Timelapse from History: the document's own history states (a real, recorded process) encoded by the
   * engine (`video.encode`) as MP4, WebM or GIF with the timelapse settings, optionally led in by frames
   * generated from a blank canvas to the first recorded state. The engine writes into the file which
   * frames are recorded and which are generated.
   */
  async exportHistoryTimelapse(): Promise<void> {
    const doc = await this.host.activeDocument();
    if (!doc) {
      this.fail(new HostError('NO_DOCUMENT', 'No document is open; open an image in Photoshop first.'));
      return;
    }
    const info = this.client.info;
    if (this.state.connection === 'connected' && !info?.methods?.includes('video.encode')) {
      // Engines before video.encode send no method list; the panel no longer encodes videos itself.
      this.update({ message: { tone: 'error', text: `This engine (${info?.version ?? 'unknown version'}) cannot encode history timelapses. Update the engine to the panel's release (git pull && npm ci), restart it, and try again.` } });
      return;
    }
    const ids = pickHistoryStates(doc.history, doc.activeHistoryId, HISTORY_MAX_FRAMES);
    if (ids.length < 2) {
      this.update({ message: { tone: 'error', text: 'This document has fewer than two history states to play. Paint a little (or raise Preferences > Performance > History States) and try again.' } });
      return;
    }
    const t = this.state.timelapse;
    const target = await this.host.chooseSaveFile(`${documentBaseName(doc.title)}-history.${t.format}`, [t.format]);
    if (!target) return;
    const lead = this.state.historyLead;
    await this.action(`Timelapse from History (${t.format.toUpperCase()})`, async (signal) => {
      this.progress('Reading history states', 0);
      // The engine caps the total pixels of one encode; reading at most sqrt(cap / states) px on the long
      // side keeps any aspect ratio under it. The video's `size` still scales the result.
      const cap = info?.limits.maxEncodePixels;
      const wanted = t.size ?? HISTORY_SIZE;
      const readSize = cap ? Math.max(16, Math.min(wanted, Math.floor(Math.sqrt(cap / ids.length)))) : wanted;
      const states = await this.host.readHistory(doc.id, ids, readSize, signal, (p) => this.progress('Reading history states', p.fraction));
      const recorded = recordedSequence(states);
      if (recorded.frames.length === 0) throw new HostError('EMPTY_SOURCE', 'The history states have no pixels to play.');
      // Repeated uploads of an unchanged state are free: the engine answers `reused` by content id.
      const images: string[] = [];
      for (const [i, frame] of recorded.frames.entries()) {
        if (signal.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was saved.');
        this.progress(`Uploading history state ${i + 1} of ${recorded.frames.length}`, (i + 1) / recorded.frames.length);
        images.push((await this.client.putImage(encodePng(frame))).image);
      }
      const leadIn = lead ? HISTORY_LEAD_FRAMES : 0;
      const job = await this.runJob(
        'video.encode',
        {
          images,
          provenance: 'recorded',
          from: 'Photoshop history states',
          leadIn,
          backend: this.state.backend,
          seed: this.state.seed,
          format: t.format,
          // History states are coarse steps: more than HISTORY_MAX_FPS of them a second is a blur.
          fps: Math.min(t.fps, HISTORY_MAX_FPS),
          ...(t.size ? { size: t.size } : {}),
          hold: 1.5,
          label: t.label,
        },
        signal,
      );
      const file = job.result?.files[0];
      if (!file) throw new EngineError('INTERNAL', 'The engine finished without a video file; retry.');
      this.progress('Saving', undefined);
      const bytes = await this.client.download(file);
      await target.write(bytes);
      const dropped = recorded.dropped > 0 ? ` (${recorded.dropped} history state${recorded.dropped === 1 ? '' : 's'} without visible change skipped)` : '';
      return `Saved ${target.name}: ${recorded.frames.length} recorded frames${leadIn ? ` after ${leadIn} generated ones` : ''}${dropped}, labelled as recorded.`;
    });
  }

  // --- internals ----------------------------------------------------------------------------------

  private onConnection(state: PanelConnectionState): void {
    this.setConnection(state);
    if (state === 'connected' && this.client.info) this.onInfo(this.client.info);
    if (state !== 'connected') {
      // Image ids may not survive on another engine; upload again after reconnecting.
      this.previewUpload = undefined;
      this.outputUpload = undefined;
    }
  }

  private onInfo(info: EngineInfo): void {
    const backends = info.backends
      .filter((b) => b.capabilities.frame)
      .map((b) => ({ id: b.id, name: b.displayName, layers: b.capabilities.layers, timelapse: b.capabilities.timelapse }));
    const backend = backends.some((b) => b.id === this.state.backend) ? this.state.backend : (backends[0]?.id ?? 'classic');
    this.update({ engineVersion: info.version, backends: backends.length > 0 ? backends : this.state.backends, backend });
    if (this.state.document) this.scrubber.request(this.state.step);
  }

  private setConnection(state: PanelConnectionState): void {
    const detail = state === 'disconnected' || state === 'version-mismatch' ? this.client.lastError?.message : undefined;
    this.update({ connection: state, connectionView: describeConnection(state, this.port, detail) });
  }

  private invalidateSource(): void {
    this.previewUpload = undefined;
    this.outputUpload = undefined;
    this.resetFrames();
  }

  private resetFrames(): void {
    this.scrubber.reset();
    this.update({ preview: undefined });
    if (this.state.connection === 'connected' && this.state.document) this.scrubber.request(this.state.step);
  }

  private async fetchPreview(step: number, signal: AbortSignal): Promise<string> {
    const upload = await this.ensureUpload('preview', signal);
    const handle = await this.client.submit('frame', { image: upload.image, step, backend: this.state.backend, seed: this.state.seed, slider: 'main' });
    const onAbort = (): void => void handle.cancel().catch(() => undefined);
    signal.addEventListener('abort', onAbort);
    try {
      const job = await handle.done;
      const file = job.result?.files[0];
      if (!file) throw new EngineError('INTERNAL', 'The engine finished without a frame file.');
      const bytes = await this.client.download(file);
      return this.imageUrl(bytes, file.mime);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Reads the source from Photoshop (modal only while reading) and uploads it, once per source state. */
  private async ensureUpload(kind: 'preview' | 'output', signal: AbortSignal | undefined): Promise<Upload> {
    const doc = await this.host.activeDocument();
    if (!doc) throw new HostError('NO_DOCUMENT', 'No document is open; open an image in Photoshop first.');
    if (doc.id !== this.state.document?.id || doc.activeHistoryId !== this.state.document?.activeHistoryId) {
      this.update({ document: doc });
      if (kind === 'output') this.invalidateSource();
    }
    const source = this.state.source;
    const layer = doc.activeLayer;
    if (source === 'layer' && !layer) throw new HostError('NO_LAYER', 'Select exactly one layer in the Layers panel to undo it alone.');
    const maxSize = kind === 'preview' ? PREVIEW_SIZE : this.state.outputSize > 0 ? this.state.outputSize : undefined;
    const key = [doc.id, doc.activeHistoryId, source, source === 'layer' ? layer?.id : '', maxSize ?? 'full'].join('/');
    const cached = kind === 'preview' ? this.previewUpload : this.outputUpload;
    if (cached?.key === key) return cached;
    if (kind === 'output' && this.previewUpload?.key === key) return this.previewUpload;
    const read = await this.host.readPixels(
      { documentId: doc.id, source, ...(source === 'layer' && layer ? { layerId: layer.id } : {}), ...(maxSize ? { maxSize } : {}) },
      signal,
    );
    if (signal?.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    const put = await this.client.putImage(encodePng(read.pixels));
    const region: SourceRegion = {
      documentId: doc.id,
      documentTitle: doc.title,
      source,
      ...(source === 'layer' && layer ? { layerId: layer.id, layerName: layer.name } : {}),
      bounds: read.bounds,
    };
    const upload: Upload = { key, image: put.image, region };
    if (kind === 'preview') this.previewUpload = upload;
    else this.outputUpload = upload;
    return upload;
  }

  private async runJob<M extends JobMethod>(method: M, params: MethodParams<M>, signal: AbortSignal): Promise<Job> {
    if (signal.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    const onProgress = (p: JobProgress): void => this.progress(p.message ?? stageLabel(p.stage), p.fraction, p.etaSeconds);
    const handle = await this.client.submit(method, params, onProgress);
    const onAbort = (): void => void handle.cancel().catch(() => undefined);
    signal.addEventListener('abort', onAbort);
    try {
      return await handle.done;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async downloadPixels(file: ResultFile, signal: AbortSignal): Promise<Pixels> {
    if (signal.aborted) throw new HostError('CANCELLED', 'Cancelled; nothing was changed.');
    return decodePng(await this.client.download(file));
  }

  private async action(label: string, fn: (signal: AbortSignal) => Promise<string>): Promise<void> {
    if (this.state.busy) {
      this.update({ message: { tone: 'info', text: `Wait for “${this.state.busy.label}” to finish, or cancel it.` } });
      return;
    }
    if (this.state.connection !== 'connected') {
      this.update({ message: { tone: 'error', text: `${this.state.connectionView.label}. ${this.state.connectionView.fix}` } });
      return;
    }
    const controller = new AbortController();
    this.abort = controller;
    this.update({ busy: { label, fraction: undefined, detail: '' }, message: undefined });
    try {
      const done = await fn(controller.signal);
      this.update({ message: { tone: 'ok', text: done } });
    } catch (error) {
      if (controller.signal.aborted || isCancel(error)) {
        this.update({ message: { tone: 'info', text: 'Cancelled; nothing was imported or saved.' } });
      } else {
        this.fail(error);
      }
    } finally {
      this.abort = undefined;
      this.update({ busy: undefined });
    }
  }

  private progress(detail: string, fraction: number | undefined, eta?: number): void {
    const busy = this.state.busy;
    if (!busy) return;
    const etaText = eta !== undefined && eta > 1 ? ` — about ${Math.round(eta)} s left` : '';
    this.update({ busy: { ...busy, detail: `${detail}${etaText}`, fraction } });
  }

  private fail(error: unknown): void {
    this.update({ message: { tone: 'error', text: explain(error) } });
  }

  private update(patch: Partial<PanelState>): void {
    Object.assign(this.state, patch);
    for (const l of this.listeners) l(this.state);
  }
}

/** An error in plain words with the action to take. */
export function explain(error: unknown): string {
  if (error instanceof HostError) return error.message;
  if (error instanceof EngineError) {
    const hint = error.hint && !error.message.includes(error.hint) ? ` ${error.hint}` : '';
    return `${error.message}${hint}`;
  }
  if (error instanceof Error) return `Something went wrong: ${error.message}. Try again; if it persists, restart the engine.`;
  return `Something went wrong: ${String(error)}.`;
}

function isCancel(error: unknown): boolean {
  return (error instanceof HostError && error.code === 'CANCELLED') || (error instanceof EngineError && error.code === 'CANCELLED');
}

function stageLabel(stage: string): string {
  return stage.length > 0 ? stage.charAt(0).toUpperCase() + stage.slice(1) : 'Working';
}

function stepFromName(name: string): number | undefined {
  const m = /step-(\d+)/.exec(name);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** "02-line-art.png" → "Line art". */
export function layerNameFromFile(name: string): string {
  const base = name.replace(/\.[a-z0-9]+$/i, '').replace(/^\d+[-_ ]*/, '').replace(/[-_]+/g, ' ').trim();
  return base ? base.charAt(0).toUpperCase() + base.slice(1) : name;
}

