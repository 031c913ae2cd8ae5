/**
 * A typed fake of the UXP `photoshop` and `uxp` modules (the slice in uxp-plugin/src/host/ps-api.ts) that
 * enforces the documented contracts, so the real host implementation can be tested without Photoshop:
 *
 * - document changes (new layers, putPixels, renaming, visibility, moves, selecting a history state)
 *   outside `core.executeAsModal` throw, as Photoshop does;
 * - only one modal scope at a time; `holdModal()` simulates another plugin holding it (error number 9);
 * - every PhotoshopImageData must be disposed (`liveImageData` counts the rest), and is unusable after;
 * - `createImageDataFromBuffer` checks width x height x components against the buffer length;
 * - layer ids must exist; 16-bit documents take only 16-bit image data (values 0..32768);
 * - `suspendHistory`/`resumeHistory` must pair LIFO inside one modal scope; a commit adds one history
 *   state, a drop restores the document exactly; leaving the scope with an open suspension throws;
 * - getPixels returns 3 components when the result is opaque and 4 otherwise, trims sourceBounds to the
 *   layer's content, and answers scaled requests from a pyramid level (sourceBounds at that level).
 *
 * Runs in Node and in the browser (the Chromium panel harness bundles it): no Node imports.
 * Pixels are stored as straight-alpha 8-bit RGBA at document size per layer.
 */
import type {
  PhotoshopModules,
  PsBounds,
  PsCreateImageDataOptions,
  PsElementPlacement,
  PsExecutionContext,
  PsGetPixelsOptions,
  PsGetPixelsResult,
  PsGetSelectionOptions,
  PsGetSelectionResult,
  PsHistoryState,
  PsImageData,
  PsLayer,
  PsPutPixelsOptions,
  UxpModules,
} from '../../uxp-plugin/src/host/ps-api.js';

export class ContractViolation extends Error {
  constructor(message: string) {
    super(`Photoshop contract violated: ${message}`);
    this.name = 'ContractViolation';
  }
}

/** Constants.BlendMode's values (@types/photoshop): what Layer.blendMode takes. */
const BLEND_MODES = new Set([
  'normal', 'dissolve', 'darken', 'multiply', 'colorBurn', 'linearBurn', 'darkerColor', 'lighten', 'screen', 'colorDodge',
  'linearDodge', 'lighterColor', 'overlay', 'softLight', 'hardLight', 'vividLight', 'linearLight', 'pinLight', 'hardMix',
  'difference', 'exclusion', 'blendSubtraction', 'blendDivide', 'hue', 'saturation', 'color', 'luminosity', 'passThrough',
]);

interface LayerState {
  id: number;
  name: string;
  visible: boolean;
  /** Master opacity in percent (0..100). */
  opacity: number;
  /** Constants.BlendMode; groups start as passThrough. */
  blendMode: string;
  kind: 'pixel' | 'group';
  /** Document-size RGBA; undefined for groups. */
  pixels: Uint8Array | undefined;
  children: LayerState[] | undefined;
}

interface DocState {
  layers: LayerState[];
  selection: PsBounds | undefined;
}

function cloneState(layers: LayerState[]): LayerState[] {
  // Pixel buffers are copy-on-write (putPixels replaces them), so sharing them is safe.
  return layers.map((l) => ({ ...l, children: l.children ? cloneState(l.children) : undefined }));
}

export class FakeHistoryState implements PsHistoryState {
  readonly id: number;
  readonly name: string;
  readonly snapshot = false;
  readonly state: DocState;
  constructor(id: number, name: string, state: DocState) {
    this.id = id;
    this.name = name;
    this.state = state;
  }
}

export interface FakeDocumentSpec {
  title: string;
  width: number;
  height: number;
  mode?: string;
  bitsPerChannel?: string;
  /** Bottom layer first is NOT used: top of the stack first, like Photoshop's collections. */
  layers: { name: string; rgba: Uint8Array; visible?: boolean; opacity?: number; blendMode?: string }[];
}

export class FakePhotoshop {
  private nextId = 100;
  private modalDepth = 0;
  private otherPluginUntil = 0;
  private otherPluginCalls = 0;
  private suspensions: { id: number; name: string; docId: number; before: DocState }[] = [];
  private readonly live = new Set<FakeImageData>();
  /** Every call, for assertions on how the host used the API. */
  readonly calls: { name: string; options?: unknown }[] = [];
  document: FakeDocument | null = null;
  readonly files = new Map<string, Uint8Array>();
  readonly secrets = new Map<string, Uint8Array>();
  /** Name the next save dialog answers with; null = the user cancels the dialog. */
  nextSaveName: string | null = 'saved.bin';
  /** Failures UXP may answer with: the save dialog rejects, a chosen file's write rejects (a read-only folder, a full disk), secure storage rejects. */
  readonly failures: { dialog?: Error; write?: Error; secrets?: Error } = {};
  /** Called after every putPixels (tests use it to cancel in the middle of an import). */
  onPutPixels: ((count: number) => void) | undefined;
  private putCount = 0;

  get inModal(): boolean {
    return this.modalDepth > 0;
  }

  get liveImageData(): number {
    return this.live.size;
  }

  id(): number {
    return this.nextId++;
  }

  openDocument(spec: FakeDocumentSpec): FakeDocument {
    const layers: LayerState[] = spec.layers.map((l) => {
      if (l.rgba.length !== spec.width * spec.height * 4) throw new Error(`layer ${l.name}: rgba must be document-sized`);
      return { id: this.id(), name: l.name, visible: l.visible ?? true, opacity: l.opacity ?? 100, blendMode: l.blendMode ?? 'normal', kind: 'pixel', pixels: l.rgba, children: undefined };
    });
    this.document = new FakeDocument(this, this.id(), spec, { layers, selection: undefined });
    return this.document;
  }

  /** Simulates another plugin holding the modal state for `calls` executeAsModal attempts. */
  holdModal(calls: number): void {
    this.otherPluginCalls = calls;
  }

  requireModal(what: string): void {
    if (this.modalDepth === 0) throw new ContractViolation(`${what} changes the document and must run inside core.executeAsModal`);
  }

  readonly modules: PhotoshopModules = {
    app: new FakeApp(this),
    core: {
      executeAsModal: async <T>(fn: (context: PsExecutionContext) => Promise<T>, options: { commandName: string }): Promise<T> => {
        this.calls.push({ name: 'executeAsModal', options });
        if (typeof options?.commandName !== 'string') throw new ContractViolation('executeAsModal needs options.commandName');
        if (this.otherPluginCalls > 0 || Date.now() < this.otherPluginUntil) {
          this.otherPluginCalls--;
          throw Object.assign(new Error('host is in a modal state'), { number: 9 });
        }
        if (this.modalDepth > 0) throw Object.assign(new Error('Nested executeAsModal from the same plugin is not supported here'), { number: 9 });
        this.modalDepth++;
        const depthBefore = this.suspensions.length;
        const context = new FakeContext(this);
        const dropOpen = (): number => {
          const open = this.suspensions.splice(depthBefore);
          const first = open[0];
          if (first && this.document) this.document.restore(first.before);
          return open.length;
        };
        let result: T;
        try {
          result = await fn(context);
        } catch (error) {
          dropOpen();
          throw error;
        } finally {
          this.modalDepth--;
        }
        const open = dropOpen();
        if (open > 0) throw new ContractViolation(`modal scope ended with ${open} history suspension(s) not resumed`);
        return result;
      },
    },
    imaging: {
      getPixels: async (options: PsGetPixelsOptions): Promise<PsGetPixelsResult> => {
        this.calls.push({ name: 'getPixels', options });
        this.requireModal('imaging.getPixels');
        const doc = this.docFor(options.documentID);
        let region: PsBounds;
        let rgba: Uint8Array;
        if (options.layerID !== undefined) {
          const layer = doc.findState(options.layerID);
          if (!layer) throw new ContractViolation(`getPixels: layer id ${options.layerID} does not exist`);
          if (!layer.pixels) throw new ContractViolation(`getPixels: layer ${options.layerID} is a group`);
          rgba = layer.pixels;
          const content = contentBounds(rgba, doc.width, doc.height);
          region = intersect(options.sourceBounds ?? content, content);
        } else {
          rgba = doc.composite();
          region = intersect(options.sourceBounds ?? { left: 0, top: 0, right: doc.width, bottom: doc.height }, {
            left: 0,
            top: 0,
            right: doc.width,
            bottom: doc.height,
          });
        }
        const w = region.right - region.left;
        const h = region.bottom - region.top;
        if (w <= 0 || h <= 0) throw new Error('getPixels: the requested area has no pixels');
        let level = 0;
        let outW = w;
        let outH = h;
        const ts = options.targetSize;
        if (ts && (ts.width !== undefined || ts.height !== undefined)) {
          const scale = ts.width !== undefined ? ts.width / w : (ts.height ?? h) / h;
          if (scale < 1) {
            outW = Math.max(1, Math.round(w * scale));
            outH = Math.max(1, Math.round(h * scale));
            level = Math.max(0, Math.floor(Math.log2(1 / scale)));
          }
        }
        const crop = resample(rgba, doc.width, region, outW, outH);
        const opaque = isOpaque(crop);
        const wants8 = options.componentSize === 8;
        const deep = doc.bits === 16 && !wants8;
        const rgbRequested = options.colorSpace === 'RGB';
        if (!rgbRequested && doc.modeName !== 'RGBColorMode') {
          // The document's own colour space comes back (e.g. 4 CMYK components); the host must ask for RGB.
          return this.result(new FakeImageData(this, outW, outH, 4, 8, crop, 'RGB'), region, level);
        }
        const channels = opaque ? 3 : 4;
        const packed = channels === 3 ? dropAlpha(crop) : crop;
        const data = deep ? to16(packed) : packed;
        return this.result(new FakeImageData(this, outW, outH, channels, deep ? 16 : 8, data, 'RGB'), region, level);
      },
      putPixels: async (options: PsPutPixelsOptions): Promise<void> => {
        this.calls.push({ name: 'putPixels', options: { layerID: options.layerID, targetBounds: options.targetBounds } });
        this.requireModal('imaging.putPixels');
        const doc = this.docFor(options.documentID);
        const layer = doc.findState(options.layerID);
        if (!layer) throw new ContractViolation(`putPixels: layer id ${options.layerID} does not exist`);
        if (!layer.pixels) throw new ContractViolation(`putPixels: layer ${options.layerID} is a group`);
        const image = options.imageData as FakeImageData;
        if (!(image instanceof FakeImageData)) throw new ContractViolation('putPixels: imageData must come from createImageDataFromBuffer or getPixels');
        image.assertLive('putPixels');
        if (doc.bits === 16 && image.componentSize !== 16) {
          throw new ContractViolation('putPixels: a 16-bit document needs 16-bit image data (values scaled to 0..32768)');
        }
        if (doc.bits === 8 && image.componentSize !== 8) throw new ContractViolation('putPixels: an 8-bit document needs 8-bit image data');
        const tb = options.targetBounds ?? { left: 0, top: 0 };
        const left = tb.left;
        const top = tb.top;
        const next = layer.pixels.slice();
        const src = image.data;
        for (let y = 0; y < image.height; y++) {
          const dy = top + y;
          if (dy < 0 || dy >= doc.height) continue;
          for (let x = 0; x < image.width; x++) {
            const dx = left + x;
            if (dx < 0 || dx >= doc.width) continue;
            const s = (y * image.width + x) * image.components;
            const d = (dy * doc.width + dx) * 4;
            for (let c = 0; c < 3; c++) next[d + c] = from16(src[s + c] ?? 0, image.componentSize);
            next[d + 3] = image.components === 4 ? from16(src[s + 3] ?? 0, image.componentSize) : 255;
          }
        }
        layer.pixels = next;
        this.putCount++;
        this.onPutPixels?.(this.putCount);
      },
      getSelection: async (options: PsGetSelectionOptions): Promise<PsGetSelectionResult> => {
        this.calls.push({ name: 'getSelection', options });
        this.requireModal('imaging.getSelection');
        const doc = this.docFor(options.documentID);
        const sel = doc.state.selection;
        if (!sel) throw new Error('getSelection: there is no selection');
        const w = sel.right - sel.left;
        const h = sel.bottom - sel.top;
        const image = new FakeImageData(this, w, h, 1, 8, new Uint8Array(w * h).fill(255), 'Grayscale');
        return { imageData: image, sourceBounds: { ...sel } };
      },
      createImageDataFromBuffer: async (buffer: Uint8Array | Uint16Array | Float32Array, options: PsCreateImageDataOptions): Promise<PsImageData> => {
        this.calls.push({ name: 'createImageDataFromBuffer', options });
        const expected = options.width * options.height * options.components;
        if (buffer.length !== expected) {
          throw new ContractViolation(
            `createImageDataFromBuffer: ${buffer.length} elements for ${options.width}x${options.height}x${options.components} (= ${expected})`,
          );
        }
        if (options.chunky === false) throw new ContractViolation('the fake supports chunky data only');
        const size = buffer instanceof Uint8Array ? 8 : buffer instanceof Uint16Array ? 16 : 32;
        if (size === 16 && options.fullRange === true) throw new ContractViolation('the host must send 16-bit data in the 0..32768 range');
        return new FakeImageData(this, options.width, options.height, options.components, size, buffer, options.colorSpace === 'Grayscale' ? 'Grayscale' : 'RGB');
      },
    },
  };

  readonly uxp: UxpModules = {
    storage: {
      formats: { binary: Symbol('binary') },
      localFileSystem: {
        getFileForSaving: async (suggestedName: string, options: { types?: string[] }) => {
          this.calls.push({ name: 'getFileForSaving', options: { suggestedName, ...options } });
          if (this.failures.dialog) throw this.failures.dialog;
          const name = this.nextSaveName;
          if (name === null) return null;
          return {
            name,
            write: async (data: string | ArrayBuffer, opts: { format?: symbol }) => {
              if (typeof data === 'string' || opts.format !== this.uxp.storage.formats.binary) {
                throw new ContractViolation('binary files must be written as ArrayBuffer with formats.binary');
              }
              if (this.failures.write) throw this.failures.write;
              this.files.set(name, new Uint8Array(data));
              return data.byteLength;
            },
          };
        },
      },
      secureStorage: {
        getItem: async (key: string) => {
          const v = this.secrets.get(key);
          if (!v) throw new Error(`no item ${key}`);
          return v;
        },
        setItem: async (key: string, value: string | ArrayBuffer) => {
          if (typeof value === 'string' ? value.length === 0 : value.byteLength === 0) throw new Error('empty value');
          if (this.failures.secrets) throw this.failures.secrets;
          this.secrets.set(key, typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value));
        },
        removeItem: async (key: string) => {
          if (!this.secrets.delete(key)) throw new Error(`no item ${key}`);
        },
      },
    },
  };

  // ---------------------------------------------------------------------------------------------

  suspend(docId: number, name: string): { historySuspensionID: number } {
    this.requireModal('hostControl.suspendHistory');
    const doc = this.docFor(docId);
    const id = this.id();
    this.suspensions.push({ id, name, docId, before: { layers: cloneState(doc.state.layers), selection: doc.state.selection } });
    return { historySuspensionID: id };
  }

  resume(params: { historySuspensionID: number; finalName?: string }, commit: boolean): void {
    this.requireModal('hostControl.resumeHistory');
    const top = this.suspensions[this.suspensions.length - 1];
    if (!top) throw new ContractViolation('resumeHistory without suspendHistory');
    if (top.id !== params.historySuspensionID) throw new ContractViolation('history suspensions must be resumed in reverse order (innermost first)');
    this.suspensions.pop();
    const doc = this.docFor(top.docId);
    if (!commit) {
      doc.restore(top.before);
    } else if (this.suspensions.length === 0) {
      doc.pushHistory(params.finalName ?? top.name);
    }
  }

  private result(image: FakeImageData, region: PsBounds, level: number): PsGetPixelsResult {
    const f = 2 ** level;
    // Pyramid-level answers report sourceBounds at that level, not at full resolution.
    const sourceBounds = { left: Math.floor(region.left / f), top: Math.floor(region.top / f), right: Math.ceil(region.right / f), bottom: Math.ceil(region.bottom / f) };
    return { imageData: image, sourceBounds, level };
  }

  private docFor(id: number | undefined): FakeDocument {
    const doc = this.document;
    if (!doc) throw new Error('no document is open');
    if (id !== undefined && id >= 0 && id !== doc.id) throw new ContractViolation(`document id ${id} does not exist`);
    return doc;
  }

  track(image: FakeImageData, alive: boolean): void {
    if (alive) this.live.add(image);
    else this.live.delete(image);
  }
}

class FakeApp {
  private readonly ps: FakePhotoshop;
  constructor(ps: FakePhotoshop) {
    this.ps = ps;
  }
  get activeDocument(): FakeDocument | null {
    return this.ps.document;
  }
}

class FakeContext implements PsExecutionContext {
  private readonly ps: FakePhotoshop;
  isCancelled = false;
  readonly progress: number[] = [];
  constructor(ps: FakePhotoshop) {
    this.ps = ps;
  }
  reportProgress(params: { value?: number }): void {
    if (params.value !== undefined) this.progress.push(params.value);
  }
  readonly hostControl = {
    suspendHistory: async (params: { documentID: number; name: string }) => this.ps.suspend(params.documentID, params.name),
    resumeHistory: async (params: { historySuspensionID: number; finalName?: string }, commit = true) => this.ps.resume(params, commit),
  };
}

export class FakeImageData implements PsImageData {
  private readonly ps: FakePhotoshop;
  private disposed = false;
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly componentSize: 8 | 16 | 32;
  readonly colorSpace: 'RGB' | 'Grayscale';
  readonly colorProfile = 'sRGB IEC61966-2.1';
  readonly chunky = true;
  readonly type = 'image/uncompressed' as const;
  readonly data: Uint8Array | Uint16Array | Float32Array;

  constructor(ps: FakePhotoshop, width: number, height: number, components: number, componentSize: 8 | 16 | 32, data: Uint8Array | Uint16Array | Float32Array, colorSpace: 'RGB' | 'Grayscale') {
    this.ps = ps;
    this.width = width;
    this.height = height;
    this.components = components;
    this.componentSize = componentSize;
    this.data = data;
    this.colorSpace = colorSpace;
    ps.track(this, true);
  }

  get hasAlpha(): boolean {
    return this.components === 4;
  }

  get pixelFormat(): PsImageData['pixelFormat'] {
    return this.colorSpace === 'Grayscale' ? 'Grayscale' : this.components === 4 ? 'RGBA' : 'RGB';
  }

  assertLive(what: string): void {
    if (this.disposed) throw new ContractViolation(`${what}: image data used after dispose()`);
  }

  getData = async (options: { chunky?: boolean; fullRange?: boolean }): Promise<Uint8Array | Uint16Array | Float32Array> => {
    this.assertLive('getData');
    if (options.chunky === false) throw new ContractViolation('the fake supports chunky data only');
    return this.data;
  };

  dispose = async (): Promise<void> => {
    this.disposed = true;
    this.ps.track(this, false);
  };
}

export interface OutlineRow {
  id: number;
  name: string;
  visible: boolean;
  opacity: number;
  blendMode: string;
  depth: number;
  kind: string;
  pixels: Uint8Array | undefined;
}

export class FakeLayer implements PsLayer {
  private readonly doc: FakeDocument;
  readonly id: number;
  constructor(doc: FakeDocument, id: number) {
    this.doc = doc;
    this.id = id;
  }
  private get s(): LayerState {
    const s = this.doc.findState(this.id);
    if (!s) throw new ContractViolation(`layer ${this.id} no longer exists`);
    return s;
  }
  get name(): string {
    return this.s.name;
  }
  set name(v: string) {
    this.doc.ps.requireModal('Layer.name');
    this.s.name = v;
  }
  get visible(): boolean {
    return this.s.visible;
  }
  set visible(v: boolean) {
    this.doc.ps.requireModal('Layer.visible');
    this.s.visible = v;
  }
  get opacity(): number {
    return this.s.opacity;
  }
  set opacity(v: number) {
    this.doc.ps.requireModal('Layer.opacity');
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) throw new ContractViolation(`Layer.opacity takes a percentage 0..100, got ${String(v)}`);
    this.s.opacity = v;
  }
  get blendMode(): string {
    return this.s.blendMode;
  }
  set blendMode(v: string) {
    this.doc.ps.requireModal('Layer.blendMode');
    if (!BLEND_MODES.has(v)) throw new ContractViolation(`Layer.blendMode takes a Constants.BlendMode value, got ${String(v)}`);
    if (v === 'passThrough' && this.s.kind !== 'group') throw new ContractViolation('only a group can pass through');
    this.s.blendMode = v;
  }
  get kind(): string {
    return this.s.kind;
  }
  get boundsNoEffects(): PsBounds {
    const s = this.s;
    if (!s.pixels) return { left: 0, top: 0, right: 0, bottom: 0 };
    return contentBounds(s.pixels, this.doc.width, this.doc.height);
  }
  get parent(): FakeLayer | null {
    const p = this.doc.parentOf(this.id);
    return p ? new FakeLayer(this.doc, p.id) : null;
  }
  get layers(): FakeLayer[] | null {
    const s = this.s;
    return s.children ? s.children.map((c) => new FakeLayer(this.doc, c.id)) : null;
  }
  move(relativeObject: PsLayer, insertLocation: PsElementPlacement): void {
    this.doc.ps.requireModal('Layer.move');
    this.doc.moveLayer(this.id, relativeObject.id, insertLocation);
  }
}

export class FakeDocument {
  readonly ps: FakePhotoshop;
  readonly id: number;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly modeName: string;
  readonly bitsName: string;
  state: DocState;
  private readonly history: FakeHistoryState[] = [];
  private active: FakeHistoryState;
  private activeLayerId: number | undefined;

  constructor(ps: FakePhotoshop, id: number, spec: FakeDocumentSpec, state: DocState) {
    this.ps = ps;
    this.id = id;
    this.title = spec.title;
    this.width = spec.width;
    this.height = spec.height;
    this.modeName = spec.mode ?? 'RGBColorMode';
    this.bitsName = spec.bitsPerChannel ?? 'bitDepth8';
    this.state = state;
    this.active = new FakeHistoryState(ps.id(), 'Open', { layers: cloneState(state.layers), selection: state.selection });
    this.history.push(this.active);
    this.activeLayerId = state.layers[0]?.id;
  }

  get mode(): string {
    return this.modeName;
  }
  get bitsPerChannel(): string {
    return this.bitsName;
  }
  get bits(): number {
    return this.bitsName === 'bitDepth16' ? 16 : this.bitsName === 'bitDepth32' ? 32 : 8;
  }
  get layers(): FakeLayer[] {
    return this.state.layers.map((l) => new FakeLayer(this, l.id));
  }
  get activeLayers(): FakeLayer[] {
    return this.activeLayerId !== undefined && this.findState(this.activeLayerId) ? [new FakeLayer(this, this.activeLayerId)] : [];
  }
  get historyStates(): FakeHistoryState[] {
    return [...this.history];
  }
  get activeHistoryState(): FakeHistoryState {
    return this.active;
  }
  set activeHistoryState(state: PsHistoryState) {
    this.ps.requireModal('Document.activeHistoryState');
    const found = this.history.find((h) => h.id === state.id);
    if (!found) throw new ContractViolation(`history state ${state.id} does not exist`);
    this.active = found;
    this.state = { layers: cloneState(found.state.layers), selection: found.state.selection };
  }

  /** Test setup: makes `id` the active layer (the user clicking it). */
  selectLayer(id: number): void {
    this.activeLayerId = id;
  }

  /** Test setup: a user edit outside the plugin, recorded as one history state. */
  userEdit(name: string, edit: (layers: LayerState[]) => void): void {
    edit(this.state.layers);
    this.pushHistory(name);
  }

  setSelection(bounds: PsBounds | undefined): void {
    this.state.selection = bounds;
  }

  async createPixelLayer(options?: { name?: string }): Promise<FakeLayer | null> {
    this.ps.requireModal('Document.createPixelLayer');
    const layer: LayerState = {
      id: this.ps.id(),
      name: options?.name ?? 'Layer',
      visible: true,
      opacity: 100,
      blendMode: 'normal',
      kind: 'pixel',
      pixels: new Uint8Array(this.width * this.height * 4),
      children: undefined,
    };
    // Photoshop creates the new layer directly above the active layer, in the active layer's parent.
    const siblings = this.activeLayerId !== undefined ? this.siblingsOf(this.activeLayerId) : undefined;
    if (siblings) {
      const index = siblings.findIndex((l) => l.id === this.activeLayerId);
      siblings.splice(index, 0, layer);
    } else {
      this.state.layers.unshift(layer);
    }
    this.activeLayerId = layer.id;
    return new FakeLayer(this, layer.id);
  }

  async createLayerGroup(options?: { name?: string; fromLayers?: PsLayer | PsLayer[] }): Promise<FakeLayer | null> {
    this.ps.requireModal('Document.createLayerGroup');
    const from = options?.fromLayers === undefined ? [] : Array.isArray(options.fromLayers) ? options.fromLayers : [options.fromLayers];
    const members: LayerState[] = [];
    let insertAt: { siblings: LayerState[]; index: number } | undefined;
    for (const l of from) {
      const siblings = this.siblingsOf(l.id);
      if (!siblings) throw new ContractViolation(`createLayerGroup: layer ${l.id} does not exist`);
      const index = siblings.findIndex((s) => s.id === l.id);
      if (!insertAt) insertAt = { siblings, index };
      const [removed] = siblings.splice(index, 1);
      if (removed) members.push(removed);
    }
    const group: LayerState = { id: this.ps.id(), name: options?.name ?? 'Group', visible: true, opacity: 100, blendMode: 'passThrough', kind: 'group', pixels: undefined, children: members };
    if (insertAt) insertAt.siblings.splice(insertAt.index, 0, group);
    else this.state.layers.unshift(group);
    this.activeLayerId = group.id;
    return new FakeLayer(this, group.id);
  }

  findState(id: number, layers: LayerState[] = this.state.layers): LayerState | undefined {
    for (const l of layers) {
      if (l.id === id) return l;
      const inner = l.children ? this.findState(id, l.children) : undefined;
      if (inner) return inner;
    }
    return undefined;
  }

  siblingsOf(id: number, layers: LayerState[] = this.state.layers): LayerState[] | undefined {
    if (layers.some((l) => l.id === id)) return layers;
    for (const l of layers) {
      const inner = l.children ? this.siblingsOf(id, l.children) : undefined;
      if (inner) return inner;
    }
    return undefined;
  }

  parentOf(id: number, layers: LayerState[] = this.state.layers, parent: LayerState | undefined = undefined): LayerState | undefined {
    for (const l of layers) {
      if (l.id === id) return parent;
      const inner = l.children ? this.parentOf(id, l.children, l) : undefined;
      if (inner) return inner;
    }
    return undefined;
  }

  moveLayer(id: number, anchorId: number, where: PsElementPlacement): void {
    if (id === anchorId) throw new ContractViolation('a layer cannot be moved relative to itself');
    const from = this.siblingsOf(id);
    const to = this.siblingsOf(anchorId);
    if (!from || !to) throw new ContractViolation(`move: layer ${from ? anchorId : id} does not exist`);
    const [moved] = from.splice(
      from.findIndex((l) => l.id === id),
      1,
    );
    if (!moved) return;
    const anchorIndex = to.findIndex((l) => l.id === anchorId);
    if (where === 'placeBefore') to.splice(anchorIndex, 0, moved);
    else if (where === 'placeAfter') to.splice(anchorIndex + 1, 0, moved);
    else throw new ContractViolation(`move: placement ${where} is not simulated`);
  }

  restore(state: DocState): void {
    this.state = { layers: cloneState(state.layers), selection: state.selection };
  }

  pushHistory(name: string): void {
    // A new state discards the states after the active one, as in Photoshop.
    const index = this.history.indexOf(this.active);
    this.history.splice(index + 1);
    this.active = new FakeHistoryState(this.ps.id(), name, { layers: cloneState(this.state.layers), selection: this.state.selection });
    this.history.push(this.active);
  }

  /**
   * Visible layers composited (straight alpha, "over") onto transparency, at their opacity, in normal or
   * multiply mode; document-sized RGBA. Groups composite as pass-through at full opacity.
   */
  composite(): Uint8Array {
    const out = new Uint8Array(this.width * this.height * 4);
    const draw = (layers: LayerState[]): void => {
      for (let i = layers.length - 1; i >= 0; i--) {
        const l = layers[i];
        if (!l || !l.visible) continue;
        if (l.children) {
          if (l.blendMode !== 'passThrough' || l.opacity !== 100) throw new Error(`the fake composites groups as pass-through at 100 % only (group ${l.name})`);
          draw(l.children);
        } else if (l.pixels) {
          if (l.blendMode !== 'normal' && l.blendMode !== 'multiply') throw new Error(`the fake composites normal and multiply layers only (layer ${l.name}: ${l.blendMode})`);
          over(out, l.pixels, l.opacity / 100, l.blendMode === 'multiply');
        }
      }
    };
    draw(this.state.layers);
    return out;
  }

  /** Flat list of layers (top first) with their nesting depth, for assertions. */
  outline(): OutlineRow[] {
    const rows: OutlineRow[] = [];
    const walk = (layers: LayerState[], depth: number): void => {
      for (const l of layers) {
        rows.push({ id: l.id, name: l.name, visible: l.visible, opacity: l.opacity, blendMode: l.blendMode, depth, kind: l.kind, pixels: l.pixels });
        if (l.children) walk(l.children, depth + 1);
      }
    };
    walk(this.state.layers, 0);
    return rows;
  }
}

/** `src` over `dst` at `opacity` (0..1); in multiply mode a source pixel over backdrop shows backdrop x source. */
function over(dst: Uint8Array, src: Uint8Array, opacity = 1, multiply = false): void {
  for (let i = 0; i < dst.length; i += 4) {
    const sa = ((src[i + 3] ?? 0) / 255) * opacity;
    if (sa === 0) continue;
    const da = (dst[i + 3] ?? 0) / 255;
    const oa = sa + da * (1 - sa);
    for (let c = 0; c < 3; c++) {
      const backdrop = dst[i + c] ?? 0;
      // Where there is backdrop, multiply blends with it (W3C compositing: (1 - da) Cs + da B(Cb, Cs)).
      const source = multiply ? (1 - da) * (src[i + c] ?? 0) + (da * backdrop * (src[i + c] ?? 0)) / 255 : (src[i + c] ?? 0);
      const v = (source * sa + backdrop * da * (1 - sa)) / oa;
      dst[i + c] = Math.round(v);
    }
    dst[i + 3] = Math.round(oa * 255);
  }
}

export function contentBounds(rgba: Uint8Array, width: number, height: number): PsBounds {
  let left = width;
  let top = height;
  let right = 0;
  let bottom = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((rgba[(y * width + x) * 4 + 3] ?? 0) !== 0) {
        if (x < left) left = x;
        if (x >= right) right = x + 1;
        if (y < top) top = y;
        if (y >= bottom) bottom = y + 1;
      }
    }
  }
  return right > left ? { left, top, right, bottom } : { left: 0, top: 0, right: 0, bottom: 0 };
}

function intersect(a: PsBounds, b: PsBounds): PsBounds {
  return { left: Math.max(a.left, b.left), top: Math.max(a.top, b.top), right: Math.min(a.right, b.right), bottom: Math.min(a.bottom, b.bottom) };
}

/** Box-averaged crop + resize of document-sized RGBA. */
function resample(rgba: Uint8Array, docWidth: number, r: PsBounds, outW: number, outH: number): Uint8Array {
  const w = r.right - r.left;
  const h = r.bottom - r.top;
  const out = new Uint8Array(outW * outH * 4);
  for (let y = 0; y < outH; y++) {
    const y0 = r.top + Math.floor((y * h) / outH);
    const y1 = Math.max(y0 + 1, r.top + Math.floor(((y + 1) * h) / outH));
    for (let x = 0; x < outW; x++) {
      const x0 = r.left + Math.floor((x * w) / outW);
      const x1 = Math.max(x0 + 1, r.left + Math.floor(((x + 1) * w) / outW));
      const sum = [0, 0, 0, 0];
      let n = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const s = (yy * docWidth + xx) * 4;
          for (let c = 0; c < 4; c++) sum[c] = (sum[c] ?? 0) + (rgba[s + c] ?? 0);
          n++;
        }
      }
      const d = (y * outW + x) * 4;
      for (let c = 0; c < 4; c++) out[d + c] = Math.round((sum[c] ?? 0) / n);
    }
  }
  return out;
}

function isOpaque(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

function dropAlpha(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i] ?? 0;
    out[j + 1] = rgba[i + 1] ?? 0;
    out[j + 2] = rgba[i + 2] ?? 0;
  }
  return out;
}

function to16(data: Uint8Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(((data[i] ?? 0) * 32768) / 255);
  return out;
}

function from16(v: number, size: number): number {
  return size === 16 ? Math.round((v * 255) / 32768) : size === 32 ? Math.round(v * 255) : v;
}
