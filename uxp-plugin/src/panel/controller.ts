/**
 * The panel's brain, free of DOM and of Photoshop: one part per thing the user does, over one shared
 * context (context.ts: the state store, PhotoshopHost and the typed EngineClient):
 * - connection.ts: pairing and the engine connection;
 * - source.ts: what is undone (canvas, active layer, selection) and its uploads;
 * - scrub.ts: the undo slider, backend and seed;
 * - import.ts: a step, keyframes or process layers into the document;
 * - export.ts: a generated timelapse to a file;
 * - history.ts: Timelapse from History (the recorded process);
 * - actions.ts: the one long action at a time, its progress and its cancel.
 * This class wires them together and is what the view and the UXP bootstrap talk to.
 *
 * Rules it keeps:
 * - the modal state is held only while the host reads or writes pixels: engine work happens outside it;
 * - the slider goes through a Scrubber (debounced, superseded, cached) and asks for frames at its display
 *   size, from the one upload (at the output size the user picked) that imports and exports use too;
 * - every long action has progress and a cancel that reaches the engine job and the host, and nothing is
 *   half-imported after a cancel or an error.
 */
import type { EngineClient } from '../../../engine/src/client/index.js';
import type { SourceKind } from '../host/types.js';
import type { Scrubber } from '../model/scrubber.js';
import { ActionRunner } from './actions.js';
import { ConnectionPart } from './connection.js';
import { PanelContext, type ContextOptions } from './context.js';
import { ExportPart } from './export.js';
import { HistoryPart } from './history.js';
import { ImportPart } from './import.js';
import { ScrubPart, type ScrubOptions } from './scrub.js';
import { SourcePart } from './source.js';
import type { Listener, PanelState, TimelapseSettings } from './state.js';

export { TOKEN_KEY } from './connection.js';
export { PANEL_VERSION } from './context.js';
export { HISTORY_LEAD_FRAMES, HISTORY_MAX_FPS, HISTORY_MAX_FRAMES, HISTORY_SIZE } from './history.js';
export { layerEntries, layerNameFromFile } from './import.js';
export { OUTPUT_SIZES, PREVIEW_SIZE } from './source.js';
export { explain, type BackendChoice, type BusyState, type PanelMessage, type PanelState, type TimelapseSettings } from './state.js';

export type ControllerOptions = ContextOptions & ScrubOptions;

export class PanelController {
  readonly context: PanelContext;
  readonly connection: ConnectionPart;
  readonly source: SourcePart;
  readonly scrub: ScrubPart;
  readonly actions: ActionRunner;
  readonly imports: ImportPart;
  readonly exports: ExportPart;
  readonly history: HistoryPart;

  constructor(options: ControllerOptions) {
    const ctx = new PanelContext(options);
    this.context = ctx;
    this.source = new SourcePart(
      ctx,
      () => this.scrub.resetFrames(),
      () => this.scrub.forgetFrames(),
    );
    this.scrub = new ScrubPart(ctx, this.source, options);
    this.connection = new ConnectionPart(ctx, { onReady: () => this.scrub.requestCurrent(), onLost: () => this.source.dropUploads() });
    this.actions = new ActionRunner(ctx);
    this.imports = new ImportPart(ctx, this.source, this.actions);
    this.exports = new ExportPart(ctx, this.source, this.actions);
    this.history = new HistoryPart(ctx, this.actions);
  }

  get state(): PanelState {
    return this.context.state;
  }

  get engine(): EngineClient {
    return this.context.client;
  }

  get scrubStats(): Scrubber<string>['stats'] {
    return this.scrub.stats;
  }

  subscribe(listener: Listener): () => void {
    return this.context.store.subscribe(listener);
  }

  /** Reads the stored token and the document, then connects; without a token the panel asks for pairing. */
  async start(): Promise<void> {
    await this.connection.readToken();
    await this.source.refreshDocument();
    await this.connection.connectIfPaired();
  }

  pair(token: string): Promise<void> {
    return this.connection.pair(token);
  }

  forgetToken(): Promise<void> {
    return this.connection.forgetToken();
  }

  connect(): Promise<void> {
    return this.connection.connect();
  }

  dispose(): void {
    this.actions.cancel();
    this.scrub.dispose();
    this.context.client.close();
    this.context.store.clear();
  }

  refreshDocument(): Promise<void> {
    return this.source.refreshDocument();
  }

  setSource(source: SourceKind): void {
    this.source.setSource(source);
  }

  setOutputSize(size: number): void {
    this.source.setOutputSize(size);
  }

  setBackend(id: string): void {
    this.scrub.setBackend(id);
  }

  setSeed(seed: number): void {
    this.scrub.setSeed(seed);
  }

  newVariation(): void {
    this.scrub.newVariation();
  }

  /** Slider, numeric field and arrow keys all end here. */
  setStep(step: number): void {
    this.scrub.setStep(step);
  }

  nudge(delta: number): void {
    this.scrub.nudge(delta);
  }

  setKeyframeSteps(steps: number[]): void {
    this.imports.setKeyframeSteps(steps);
  }

  setTimelapse(settings: Partial<TimelapseSettings>): void {
    this.exports.setTimelapse(settings);
  }

  setHistoryLead(on: boolean): void {
    this.history.setHistoryLead(on);
  }

  cancel(): void {
    this.actions.cancel();
  }

  /** A passing note from the host (e.g. waiting for another plugin's modal state). */
  notify(text: string): void {
    this.context.store.update({ message: { tone: 'info', text } });
  }

  addStepAsLayer(): Promise<void> {
    return this.imports.addStepAsLayer();
  }

  importKeyframes(): Promise<void> {
    return this.imports.importKeyframes();
  }

  importProcessLayers(): Promise<void> {
    return this.imports.importProcessLayers();
  }

  exportTimelapse(): Promise<void> {
    return this.exports.exportTimelapse();
  }

  exportHistoryTimelapse(): Promise<void> {
    return this.history.exportHistoryTimelapse();
  }
}
