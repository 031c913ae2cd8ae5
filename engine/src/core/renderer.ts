/**
 * Renders any step of a timeline at one output size, fast and in any order.
 *
 * The state is replayed at plan resolution (replay.ts); only output pixels are computed at the output
 * size. The renderer keeps the composite (all layers over white paper, before the global curve and the
 * canvas flip) of the step it last showed, cut into tiles. Seeking from step a to step b restores the
 * plan state at b and recomposites only the tiles that the operations between a and b touched, so a
 * timelapse played forward pays for each operation's few tiles, and a slider jump pays at most for one
 * full composite at the requested size, never for a replay at full resolution.
 *
 * A pixel's value is a pure function of the plan state (see `compositePixel` in the reference test
 * renderer, tests/core/reference-renderer.ts): each layer's coverage is the bilinear sample of its
 * plan-resolution mask at the pixel centre, its colour is its content at the output size.
 */
import { renderContent } from './content.js';
import { outputSize, resizeRgbArea, type RgbImage, type RgbaImage } from './image.js';
import { PlanState, preparePlan, type ActiveTransform, type PreparedPlan } from './replay.js';
import { MAX_STEP, OPERATION_COUNT, isStep, operationsAppliedAt } from './steps.js';
import { axisTable, bilinear, stampAt, type AxisTable } from './sampling.js';
import type { Curve, LayerSpec, Timeline } from './timeline.js';
import { validateTimeline } from './timeline-checks.js';
import { applyCurve, flipRowsInPlace, isIdentityCurve } from './view-effects.js';

export interface RendererOptions {
  /** Memory the plan snapshots may use when the renderer prepares the plan itself (see PrepareOptions). */
  readonly snapshotBudgetBytes?: number;
  /**
   * Long side of the output in pixels; default and maximum: the full size. Below the plan resolution
   * coverage is point-sampled, so render at least at plan size and downscale for smaller pictures.
   */
  readonly longSide?: number;
  /** The finished artwork at the output size (default: area-averaged from timeline.finished). */
  readonly art?: RgbImage;
}

/**
 * Where a layer's pixels at the output size can come from instead of being produced on this thread (layer
 * contents made ahead on another one); undefined: this renderer produces them itself.
 */
export type ContentSource = (index: number) => RgbaImage | undefined;

export interface LayerImage {
  readonly spec: LayerSpec;
  /** Content with alpha = content alpha x coverage x layer opacity, at the output size. */
  readonly image: RgbaImage;
  readonly visible: boolean;
}

const TILE = 32;
/** Extra output pixels around every dirty box, for the bilinear reach of moved (transformed) pixels. */
const DIRTY_MARGIN = 2;

/** Per-layer facts that stay fixed while one rectangle is composited. */
interface ActiveLayer {
  readonly index: number;
  readonly mask: Uint8Array;
  readonly content: Uint8Array;
  readonly opacity: number;
  readonly multiply: boolean;
  /** Normal blend at full opacity: where its coverage and content are full, it hides the layers below. */
  readonly opaqueCandidate: boolean;
  /** Output box where the coverage can be non-zero: [x0, y0, x1, y1). */
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly transform: ActiveTransform | null;
  /** Output box of the transform: [x0, y0, x1, y1). */
  readonly tx0: number;
  readonly ty0: number;
  readonly tx1: number;
  readonly ty1: number;
}

/**
 * Scratch of compositeRect. Per layer (index k) within one row: its columns [boxFrom, boxTo) inside its
 * coverage box, [movedFrom, movedTo) inside its transform. Per row: the columns where which layers show
 * changes (`cuts`). Per span between two cuts: the layers that show there, top first (`live`), whether
 * each is moved there, and each one's coverage at the pixel.
 */
interface CompositeScratch {
  readonly boxFrom: Int32Array;
  readonly boxTo: Int32Array;
  readonly movedFrom: Int32Array;
  readonly movedTo: Int32Array;
  readonly cuts: Int32Array;
  readonly live: Int32Array;
  readonly liveMoved: Uint8Array;
  /** Per span layer (as `live`) where none is moved: its content, mask row offset, opacity, flags (1 opaque candidate, 2 multiply). */
  readonly contents: Uint8Array[];
  readonly bases: Int32Array;
  readonly opacities: Float64Array;
  readonly flags: Uint8Array;
  readonly cover: Float64Array;
  /** Per layer (offset k x plan width), its mask interpolated down to the row being composited, per plan column. */
  readonly rowCover: Float64Array;
}

export class TimelineRenderer {
  readonly timeline: Timeline;
  readonly plan: PreparedPlan;
  /** Output size. */
  readonly width: number;
  readonly height: number;
  /** Output pixels per plan pixel. */
  readonly outPerPlan: number;

  private readonly state: PlanState;
  private readonly art: RgbImage;
  private readonly contents: (RgbaImage | undefined)[];
  private contentSource: ContentSource | undefined;
  private readonly columns: AxisTable;
  private readonly rows: AxisTable;
  private readonly composite: Uint8Array;
  /** Operations applied in the state the composite shows. */
  private shown = 0;
  private readonly tilesX: number;
  private readonly tilesY: number;
  private readonly dirtyTiles: Uint8Array;
  /**
   * The composite through the global curve (before the flip), kept while one curve shows: frame after
   * frame only the tiles recomposited since (`viewStale`) pass through the curve again. Allocated when a
   * curve first shows; most of a timeline is seen through the identity curve, which needs no copy of its own.
   */
  private view: Uint8Array | undefined;
  private viewCurve: Curve | undefined;
  private readonly viewStale: Uint8Array;
  private readonly sample = new Float64Array(4);
  private scratchArrays: CompositeScratch | undefined;

  constructor(source: Timeline | PreparedPlan, options: RendererOptions = {}) {
    const plan = 'operations' in source ? preparePlan(validated(source), options.snapshotBudgetBytes === undefined ? {} : { snapshotBudgetBytes: options.snapshotBudgetBytes }) : source;
    const timeline = plan.timeline;
    this.timeline = timeline;
    this.plan = plan;
    const size = outputSize(timeline.width, timeline.height, options.longSide);
    this.width = size.width;
    this.height = size.height;
    const k = Math.max(size.width, size.height) / Math.max(timeline.width, timeline.height);
    this.outPerPlan = timeline.planScale * k;
    if (options.art && (options.art.width !== size.width || options.art.height !== size.height)) {
      throw new RangeError(`the artwork is ${options.art.width}x${options.art.height}, the output ${size.width}x${size.height}`);
    }
    this.art = options.art ?? (k === 1 ? timeline.finished : resizeRgbArea(timeline.finished, size.width, size.height));
    this.state = new PlanState(plan);
    this.contents = timeline.layers.map(() => undefined);
    this.columns = axisTable(size.width, plan.planWidth, timeline.width / timeline.planScale, this.outPerPlan);
    this.rows = axisTable(size.height, plan.planHeight, timeline.height / timeline.planScale, this.outPerPlan);
    this.composite = new Uint8Array(size.width * size.height * 3).fill(255);
    this.tilesX = Math.ceil(size.width / TILE);
    this.tilesY = Math.ceil(size.height / TILE);
    this.dirtyTiles = new Uint8Array(this.tilesX * this.tilesY);
    this.viewStale = new Uint8Array(this.tilesX * this.tilesY);
  }

  /** Number of operations applied in the current state. */
  get appliedCount(): number {
    return this.shown;
  }

  /** Brings the state and the composite to `count` applied operations (0..OPERATION_COUNT). */
  seek(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > OPERATION_COUNT) {
      throw new RangeError(`operation count must be an integer in 0..${OPERATION_COUNT}, got ${count}`);
    }
    if (count === this.shown && this.state.applied === count) return;
    const from = Math.min(count, this.shown);
    const to = Math.max(count, this.shown);
    let any = false;
    const { dirty, dirtyBands: bands, dirtyBandStart: bandStart } = this.plan;
    for (let i = from; i < to; i++) {
      const o = i * 4;
      if (dirty[o + 2]! <= dirty[o]! || dirty[o + 3]! <= dirty[o + 1]!) continue;
      any = true;
      // Band by band where the operation has them (a stroke's thin band of its box), else its box.
      if (bandStart[i + 1]! > bandStart[i]!) {
        for (let b = bandStart[i]! * 4; b < bandStart[i + 1]! * 4; b += 4) this.markPlanBox(bands[b]!, bands[b + 1]!, bands[b + 2]!, bands[b + 3]!);
      } else {
        this.markPlanBox(dirty[o]!, dirty[o + 1]!, dirty[o + 2]!, dirty[o + 3]!);
      }
    }
    this.state.seek(count);
    this.shown = count;
    if (any) this.recompositeDirtyTiles();
  }

  seekToStep(step: number): void {
    if (!isStep(step)) throw new RangeError(`step must be an integer in 0..${MAX_STEP}, got ${step}`);
    this.seek(operationsAppliedAt(step));
  }

  /** The canvas at `step` (0 = finished, 999 = blank), as the artist would see it; `into` as in currentCanvas. */
  renderStep(step: number, into?: Uint8Array): RgbImage {
    this.seekToStep(step);
    return this.currentCanvas(into);
  }

  /**
   * The canvas in the current state, with the global curve and the canvas flip applied: in a new buffer,
   * or written into `into` (exactly width x height x 3 bytes), e.g. a buffer an encoder lends (FrameBuffers).
   */
  currentCanvas(into?: Uint8Array): RgbImage {
    if (into && into.length !== this.composite.length) throw new RangeError(`a frame buffer of ${into.length} bytes, expected ${this.composite.length}`);
    const out = into ?? new Uint8Array(this.composite.length);
    const curve = this.state.curve;
    out.set(isIdentityCurve(curve) ? this.composite : this.curvedComposite(curve));
    if (this.state.flipped) flipRowsInPlace(out, this.width, this.height);
    return { width: this.width, height: this.height, channels: 3, data: out };
  }

  /**
   * The paint in the current state: every layer over white paper, before the global curve and the
   * canvas flip (RGB, row-major, output size). A live view of the renderer's own buffer, for read-only
   * consumers that must not pay for a full-canvas copy per operation (eval/metrics/replay.ts); it changes on every seek.
   */
  get compositeView(): Uint8Array {
    return this.composite;
  }

  /** Whether the canvas is flipped in the current state. */
  get isFlipped(): boolean {
    return this.state.flipped;
  }

  /** Every layer as it stands at `step`, at the output size, for layer exports. */
  layerImages(step: number): LayerImage[] {
    this.seekToStep(step);
    const { width, height } = this;
    const cols = this.columns;
    const rows = this.rows;
    const pw = this.plan.planWidth;
    return this.timeline.layers.map((spec, index) => {
      const src = this.content(index).data;
      const mask = this.state.reveal[index]!;
      const opacity = this.state.opacity[index]!;
      const data = new Uint8Array(width * height * 4);
      for (let y = 0; y < height; y++) {
        const ra = rows.first[y]! * pw;
        const rb = rows.second[y]! * pw;
        const fy = rows.weight[y]!;
        for (let x = 0; x < width; x++) {
          const cover = bilinear(mask, ra, rb, cols.first[x]!, cols.second[x]!, cols.weight[x]!, fy);
          if (cover === 0) continue;
          const p = (y * width + x) * 4;
          data[p] = src[p]!;
          data[p + 1] = src[p + 1]!;
          data[p + 2] = src[p + 2]!;
          data[p + 3] = Math.round((src[p + 3]! * cover * opacity) / 255);
        }
      }
      return { spec, image: { width, height, channels: 4, data }, visible: this.state.visible[index]! };
    });
  }

  /** The finished artwork at the output size: what layer contents are made from (with `outPerPlan`). */
  get artwork(): RgbImage {
    return this.art;
  }

  /** Whether layer `index`'s pixels at the output size are made already (they are kept as long as the renderer). */
  hasContent(index: number): boolean {
    return this.contents[index] !== undefined;
  }

  /** Takes layer pixels from `source` first (see ContentSource), until it is set again (undefined: none). */
  useContents(source: ContentSource | undefined): void {
    this.contentSource = source;
  }

  /** The layer's pixels at the output size, produced (or taken from the content source) on first use. */
  private content(index: number): RgbaImage {
    let image = this.contents[index];
    if (!image) {
      const given = this.contentSource?.(index);
      const fits = given !== undefined && given.width === this.width && given.height === this.height && given.data.length === this.width * this.height * 4;
      image = fits ? given : renderContent(this.timeline.layers[index]!.content, { art: this.art, scale: this.outPerPlan });
      this.contents[index] = image;
    }
    return image;
  }

  /** The composite through `curve`, brought up to date where it went stale (see `view`). */
  private curvedComposite(curve: Curve): Uint8Array {
    const composite = this.composite;
    const view = (this.view ??= new Uint8Array(composite.length));
    const stale = this.viewStale;
    if (this.viewCurve !== curve) {
      applyCurve(composite, view, curve);
      this.viewCurve = curve;
      stale.fill(0);
      return view;
    }
    const W = this.width;
    this.takeTileRuns(stale, (x0, y0, x1, y1) => {
      for (let y = y0; y < y1; y++) applyCurve(composite, view, curve, (y * W + x0) * 3, (y * W + x1) * 3);
    });
    return view;
  }

  /** Marks the tiles whose pixels read plan pixels in [x0, x1) x [y0, y1). */
  private markPlanBox(x0: number, y0: number, x1: number, y1: number): void {
    const { planWidth, planHeight } = this.plan;
    const ox0 = this.columns.reachingFrom[clamp(x0, 0, planWidth)]! - DIRTY_MARGIN;
    const ox1 = this.columns.pastFrom[clamp(x1, 0, planWidth)]! + DIRTY_MARGIN;
    const oy0 = this.rows.reachingFrom[clamp(y0, 0, planHeight)]! - DIRTY_MARGIN;
    const oy1 = this.rows.pastFrom[clamp(y1, 0, planHeight)]! + DIRTY_MARGIN;
    const tx0 = Math.max(0, Math.floor(ox0 / TILE));
    const ty0 = Math.max(0, Math.floor(oy0 / TILE));
    const tx1 = Math.min(this.tilesX, Math.ceil(ox1 / TILE));
    const ty1 = Math.min(this.tilesY, Math.ceil(oy1 / TILE));
    for (let ty = ty0; ty < ty1; ty++) this.dirtyTiles.fill(1, ty * this.tilesX + tx0, ty * this.tilesX + Math.max(tx0, tx1));
  }

  private recompositeDirtyTiles(): void {
    const layers = this.activeLayers();
    this.takeTileRuns(this.dirtyTiles, (x0, y0, x1, y1) => {
      this.compositeRect(layers, x0, y0, x1, y1);
      const row = (y0 / TILE) * this.tilesX;
      this.viewStale.fill(1, row + x0 / TILE, row + Math.ceil(x1 / TILE));
    });
  }

  /** Calls `visit` with the output rectangle of every run of flagged tiles along a tile row, clearing the flags. */
  private takeTileRuns(flags: Uint8Array, visit: (x0: number, y0: number, x1: number, y1: number) => void): void {
    for (let ty = 0; ty < this.tilesY; ty++) {
      const row = ty * this.tilesX;
      let tx = 0;
      while (tx < this.tilesX) {
        if (flags[row + tx] === 0) {
          tx++;
          continue;
        }
        const start = tx;
        while (tx < this.tilesX && flags[row + tx] === 1) tx++;
        flags.fill(0, row + start, row + tx);
        visit(start * TILE, ty * TILE, Math.min(this.width, tx * TILE), Math.min(this.height, (ty + 1) * TILE));
      }
    }
  }

  /** The layers that show paint in the current state, bottom to top, with their output boxes. */
  private activeLayers(): ActiveLayer[] {
    const out: ActiveLayer[] = [];
    const s = this.state;
    const k = this.outPerPlan;
    for (let l = 0; l < this.timeline.layers.length; l++) {
      if (!s.visible[l] || !(s.opacity[l]! > 0)) continue;
      const b = s.bounds.subarray(l * 4, l * 4 + 4);
      const t = s.transforms[l] ?? null;
      if (b[2]! <= b[0]! && !t) continue;
      const empty = b[2]! <= b[0]!;
      const { planWidth, planHeight } = this.plan;
      out.push({
        index: l,
        mask: s.reveal[l]!,
        content: this.content(l).data,
        opacity: s.opacity[l]!,
        multiply: this.timeline.layers[l]!.blend === 'multiply',
        opaqueCandidate: s.opacity[l] === 1 && this.timeline.layers[l]!.blend === 'normal',
        x0: empty ? 0 : this.columns.reachingFrom[clamp(b[0]!, 0, planWidth)]!,
        y0: empty ? 0 : this.rows.reachingFrom[clamp(b[1]!, 0, planHeight)]!,
        x1: empty ? 0 : this.columns.pastFrom[clamp(b[2]!, 0, planWidth)]!,
        y1: empty ? 0 : this.rows.pastFrom[clamp(b[3]!, 0, planHeight)]!,
        transform: t,
        tx0: t ? clamp(Math.floor(t.reach[0] * k) - 1, 0, this.width) : 0,
        ty0: t ? clamp(Math.floor(t.reach[1] * k) - 1, 0, this.height) : 0,
        tx1: t ? clamp(Math.ceil(t.reach[2] * k) + 1, 0, this.width) : 0,
        ty1: t ? clamp(Math.ceil(t.reach[3] * k) + 1, 0, this.height) : 0,
      });
    }
    return out;
  }

  /**
   * Recomputes the composite in [x0, x1) x [y0, y1) from paper and every showing layer. Each row is cut
   * into spans where the same layers show (inside their coverage boxes, with paint on the row, or moved),
   * so a pixel visits only the layers that can change it. Per pixel, the topmost layer that covers it
   * completely and opaquely (normal blend, full opacity) hides everything below, so the layers are visited
   * from the top and coverage is sampled only until that layer: at late steps most pixels cost one layer,
   * not all of them. The layers from there up are then blended.
   */
  private compositeRect(layers: readonly ActiveLayer[], x0: number, y0: number, x1: number, y1: number): void {
    const pw = this.plan.planWidth;
    const cols = this.columns;
    const rows = this.rows;
    const n = layers.length;
    const { boxFrom, boxTo, movedFrom, movedTo, cuts, rowCover } = this.scratch(n);
    for (let y = y0; y < y1; y++) {
      const ra = rows.first[y]! * pw;
      const rb = rows.second[y]! * pw;
      const fy = rows.weight[y]!;
      // Per layer, the columns of this row inside its coverage box and inside its transform (moved pixels are sampled apart).
      let cutCount = 0;
      cuts[cutCount++] = x0;
      cuts[cutCount++] = x1;
      for (let k = 0; k < n; k++) {
        const L = layers[k]!;
        const inRows = y >= L.y0 && y < L.y1;
        boxFrom[k] = inRows ? Math.max(x0, L.x0) : x1;
        boxTo[k] = inRows ? Math.min(x1, L.x1) : x1;
        const moved = L.transform !== null && y >= L.ty0 && y < L.ty1 && L.tx0 < x1 && L.tx1 > x0;
        movedFrom[k] = moved ? Math.max(x0, L.tx0) : 0;
        movedTo[k] = moved ? Math.min(x1, L.tx1) : 0;
        if (moved) {
          cuts[cutCount++] = movedFrom[k]!;
          cuts[cutCount++] = movedTo[k]!;
        }
        // The mask interpolated down to this row, over the plan columns the box's pixels read: each
        // pixel's coverage is then one interpolation across, the same value as bilinear() gives.
        if (boxFrom[k]! >= boxTo[k]!) continue;
        const m = L.mask;
        const base = k * pw;
        const last = cols.second[boxTo[k]! - 1]!;
        let any = 0;
        for (let c = cols.first[boxFrom[k]!]!; c <= last; c++) {
          const a = m[ra + c]!;
          const b = m[rb + c]!;
          any |= a | b;
          rowCover[base + c] = a + (b - a) * fy;
        }
        // Nothing of this layer on this row: no pixel needs to look at it.
        if (any === 0) {
          boxFrom[k] = boxTo[k] = x1;
          continue;
        }
        cuts[cutCount++] = boxFrom[k]!;
        cuts[cutCount++] = boxTo[k]!;
      }
      // Insertion sort: a few cuts per layer.
      for (let i = 1; i < cutCount; i++) {
        const v = cuts[i]!;
        let j = i - 1;
        while (j >= 0 && cuts[j]! > v) {
          cuts[j + 1] = cuts[j]!;
          j--;
        }
        cuts[j + 1] = v;
      }
      for (let i = 1; i < cutCount; i++) {
        if (cuts[i]! > cuts[i - 1]!) this.compositeSpan(layers, y, cuts[i - 1]!, cuts[i]!);
      }
    }
  }

  /** compositeRect over [x0, x1) of row y, where the same layers show throughout (the row's boxes are set). */
  private compositeSpan(layers: readonly ActiveLayer[], y: number, x0: number, x1: number): void {
    const line = y * this.width;
    const pw = this.plan.planWidth;
    const cols = this.columns;
    const out = this.composite;
    const { boxFrom, boxTo, movedFrom, movedTo, live, liveMoved, cover, rowCover } = this.scratchArrays!;
    // The layers that show in the span, top first, and whether each is moved there.
    let m = 0;
    for (let k = layers.length - 1; k >= 0; k--) {
      const moved = x0 >= movedFrom[k]! && x0 < movedTo[k]!;
      if (!moved && !(x0 >= boxFrom[k]! && x0 < boxTo[k]!)) continue;
      live[m] = k;
      liveMoved[m] = moved ? 1 : 0;
      m++;
    }
    if (m === 0) {
      out.fill(255, line * 3 + x0 * 3, line * 3 + x1 * 3);
      return;
    }
    let anyMoved = 0;
    for (let j = 0; j < m; j++) anyMoved |= liveMoved[j]!;
    if (anyMoved === 0) {
      this.compositePlainSpan(layers, m, line, x0, x1);
      return;
    }
    for (let x = x0; x < x1; x++) {
      const p = (line + x) * 4;
      const ua = cols.first[x]!;
      const ub = cols.second[x]!;
      const fx = cols.weight[x]!;
      // Index in `live` of the topmost layer that hides the ones below (m: none does, paper shows).
      let start = m;
      let r = 255;
      let g = 255;
      let b = 255;
      for (let j = 0; j < m; j++) {
        if (liveMoved[j] === 1) continue;
        const k = live[j]!;
        const left = rowCover[k * pw + ua]!;
        const c = left + (rowCover[k * pw + ub]! - left) * fx;
        cover[j] = c;
        const L = layers[k]!;
        if (c !== 255 || !L.opaqueCandidate || L.content[p + 3] !== 255) continue;
        r = L.content[p]!;
        g = L.content[p + 1]!;
        b = L.content[p + 2]!;
        start = j;
        break;
      }
      for (let j = start - 1; j >= 0; j--) {
        const L = layers[live[j]!]!;
        let sr: number;
        let sg: number;
        let sb: number;
        let a: number;
        if (liveMoved[j] === 1) {
          if (!this.transformedSample(L, L.transform!, x, y)) continue;
          const t = this.sample;
          sr = t[0]!;
          sg = t[1]!;
          sb = t[2]!;
          a = t[3]! * L.opacity;
        } else {
          const c = cover[j]!;
          if (c === 0) continue;
          const ca = L.content[p + 3]!;
          if (ca === 0) continue;
          sr = L.content[p]!;
          sg = L.content[p + 1]!;
          sb = L.content[p + 2]!;
          // Exactly the opacity when content and coverage are full: the top layer reproduces its content.
          a = c === 255 && ca === 255 ? L.opacity : ((c * ca) / 65025) * L.opacity;
        }
        if (L.multiply) {
          r *= 1 - a + (a * sr) / 255;
          g *= 1 - a + (a * sg) / 255;
          b *= 1 - a + (a * sb) / 255;
        } else {
          r += (sr - r) * a;
          g += (sg - g) * a;
          b += (sb - b) * a;
        }
      }
      const o = (line + x) * 3;
      out[o] = r + 0.5;
      out[o + 1] = g + 0.5;
      out[o + 2] = b + 0.5;
    }
  }

  /**
   * compositeSpan where no layer is moved (most spans of most frames): the layers' facts in local arrays,
   * no transform checks per pixel. Its blend repeats compositeSpan's on purpose: one loop for both, with a
   * per-layer "moved" flag, renders timelapses ~8% slower (measured on five plans).
   */
  private compositePlainSpan(layers: readonly ActiveLayer[], m: number, line: number, x0: number, x1: number): void {
    const pw = this.plan.planWidth;
    const cols = this.columns;
    const out = this.composite;
    const { live, contents, bases, opacities, flags, cover, rowCover } = this.scratchArrays!;
    for (let j = 0; j < m; j++) {
      const L = layers[live[j]!]!;
      contents[j] = L.content;
      bases[j] = live[j]! * pw;
      opacities[j] = L.opacity;
      flags[j] = (L.opaqueCandidate ? 1 : 0) | (L.multiply ? 2 : 0);
    }
    for (let x = x0; x < x1; x++) {
      const p = (line + x) * 4;
      const ua = cols.first[x]!;
      const ub = cols.second[x]!;
      const fx = cols.weight[x]!;
      let start = m;
      let r = 255;
      let g = 255;
      let b = 255;
      for (let j = 0; j < m; j++) {
        const base = bases[j]!;
        const left = rowCover[base + ua]!;
        const c = left + (rowCover[base + ub]! - left) * fx;
        cover[j] = c;
        if (c !== 255 || (flags[j]! & 1) === 0) continue;
        const content = contents[j]!;
        if (content[p + 3] !== 255) continue;
        r = content[p]!;
        g = content[p + 1]!;
        b = content[p + 2]!;
        start = j;
        break;
      }
      for (let j = start - 1; j >= 0; j--) {
        const c = cover[j]!;
        if (c === 0) continue;
        const content = contents[j]!;
        const ca = content[p + 3]!;
        if (ca === 0) continue;
        const sr = content[p]!;
        const sg = content[p + 1]!;
        const sb = content[p + 2]!;
        const a = c === 255 && ca === 255 ? opacities[j]! : ((c * ca) / 65025) * opacities[j]!;
        if ((flags[j]! & 2) !== 0) {
          r *= 1 - a + (a * sr) / 255;
          g *= 1 - a + (a * sg) / 255;
          b *= 1 - a + (a * sb) / 255;
        } else {
          r += (sr - r) * a;
          g += (sg - g) * a;
          b += (sb - b) * a;
        }
      }
      const o = (line + x) * 3;
      out[o] = r + 0.5;
      out[o + 1] = g + 0.5;
      out[o + 2] = b + 0.5;
    }
  }

  /** Per-layer scratch arrays of compositeRect, reused across rectangles. */
  private scratch(layers: number): CompositeScratch {
    if (!this.scratchArrays || this.scratchArrays.cover.length < layers) {
      this.scratchArrays = {
        boxFrom: new Int32Array(layers),
        boxTo: new Int32Array(layers),
        movedFrom: new Int32Array(layers),
        movedTo: new Int32Array(layers),
        cuts: new Int32Array(4 * layers + 2),
        live: new Int32Array(layers),
        liveMoved: new Uint8Array(layers),
        contents: [],
        bases: new Int32Array(layers),
        opacities: new Float64Array(layers),
        flags: new Uint8Array(layers),
        cover: new Float64Array(layers),
        rowCover: new Float64Array(layers * this.plan.planWidth),
      };
    }
    return this.scratchArrays;
  }

  /**
   * Layer L at output pixel (x, y) while a transform moves its region: moved pixels come from the
   * inverse-mapped position, the vacated part of the region is empty. Writes [r, g, b, alpha 0..1] to
   * `this.sample`; false when nothing is there.
   */
  private transformedSample(L: ActiveLayer, t: ActiveTransform, x: number, y: number): boolean {
    const k = this.outPerPlan;
    const region = t.region;
    const cx = region.x + region.width / 2;
    const cy = region.y + region.height / 2;
    const px = (x + 0.5) / k;
    const py = (y + 0.5) / k;
    const qx = cx + (px - t.dx - cx) / t.scale;
    const qy = cy + (py - t.dy - cy) / t.scale;
    if (stampAt(region, qx, qy) >= 128) return this.layerSampleBilinear(L, qx * k - 0.5, qy * k - 0.5);
    if (stampAt(region, px, py) >= 128) return false;
    return this.layerSampleBilinear(L, x, y);
  }

  /** Bilinear sample of layer L's painted pixels (content x coverage) at fractional output position (fx, fy). */
  private layerSampleBilinear(L: ActiveLayer, fx: number, fy: number): boolean {
    const w = this.width;
    const h = this.height;
    const pw = this.plan.planWidth;
    const cols = this.columns;
    const rows = this.rows;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    const data = L.content;
    let r = 0;
    let g = 0;
    let b = 0;
    let a = 0;
    for (let dy = 0; dy <= 1; dy++) {
      const yy = Math.min(h - 1, Math.max(0, y0 + dy));
      const wy = dy === 0 ? 1 - ay : ay;
      const ra = rows.first[yy]! * pw;
      const rb = rows.second[yy]! * pw;
      const vy = rows.weight[yy]!;
      for (let dx = 0; dx <= 1; dx++) {
        const xx = Math.min(w - 1, Math.max(0, x0 + dx));
        const weight = wy * (dx === 0 ? 1 - ax : ax);
        if (weight === 0) continue;
        const cover = bilinear(L.mask, ra, rb, cols.first[xx]!, cols.second[xx]!, cols.weight[xx]!, vy);
        const i = (yy * w + xx) * 4;
        const wa = (weight * cover * data[i + 3]!) / 65025;
        r += data[i]! * wa;
        g += data[i + 1]! * wa;
        b += data[i + 2]! * wa;
        a += wa;
      }
    }
    if (a <= 0) return false;
    const s = this.sample;
    s[0] = r / a;
    s[1] = g / a;
    s[2] = b / a;
    s[3] = a;
    return true;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function validated(t: Timeline): Timeline {
  validateTimeline(t);
  return t;
}
