/**
 * Renders any step of a timeline at full resolution, fast and in any order.
 *
 * The renderer replays operations forward, keeping the composite (all layers over white paper,
 * before the global curve and the canvas flip) up to date for the pixels each operation touches.
 * It snapshots its state every `snapshotInterval` operations, so seeking to any step replays at most
 * that many operations from the nearest snapshot: scrubbing a slider back and forth stays cheap.
 */
import { createRgba, type RgbImage, type RgbaImage } from './image.js';
import { MAX_STEP, OPERATION_COUNT, isStep, operationsAppliedAt } from './steps.js';
import {
  IDENTITY_CURVE,
  type Curve,
  type LayerSpec,
  type Operation,
  type Stamp,
  type Timeline,
} from './timeline.js';

export interface RendererOptions {
  /** Memory the snapshots may use; more memory means faster random access. Default 192 MiB. */
  readonly snapshotBudgetBytes?: number;
}

interface ActiveTransform {
  readonly region: Stamp;
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
  /** Full-resolution box of every pixel the transform can affect: [x0, y0, x1, y1), clamped. */
  readonly box: Box;
}

/** [x0, y0, x1, y1) in full-resolution pixels. */
type Box = [number, number, number, number];

interface Snapshot {
  readonly applied: number;
  readonly reveal: Uint8Array[];
  readonly composite: Uint8Array;
  readonly visible: boolean[];
  readonly opacity: number[];
  readonly flipped: boolean;
  readonly curve: Curve;
  readonly transforms: (ActiveTransform | null)[];
  readonly bounds: (Box | null)[];
}

export interface LayerImage {
  readonly spec: LayerSpec;
  /** Content with alpha = content alpha x coverage x layer opacity. */
  readonly image: RgbaImage;
  readonly visible: boolean;
}

const DEFAULT_SNAPSHOT_BUDGET = 192 * 1024 * 1024;

export class TimelineRenderer {
  readonly timeline: Timeline;
  readonly width: number;
  readonly height: number;
  /** Operations between two snapshots. */
  readonly snapshotInterval: number;

  private readonly layers: readonly LayerSpec[];
  private readonly reveal: Uint8Array[];
  private readonly composite: Uint8Array;
  private visible: boolean[];
  private opacity: number[];
  private flipped = false;
  private curve: Curve = IDENTITY_CURVE;
  private transforms: (ActiveTransform | null)[];
  /** Box of each layer's non-zero coverage, for visibility and opacity changes. */
  private bounds: (Box | null)[];
  private applied = 0;
  private readonly snapshots = new Map<number, Snapshot>();

  constructor(timeline: Timeline, options: RendererOptions = {}) {
    validateTimeline(timeline);
    this.timeline = timeline;
    this.width = timeline.width;
    this.height = timeline.height;
    this.layers = timeline.layers;
    const pixels = this.width * this.height;
    this.reveal = this.layers.map(() => new Uint8Array(pixels));
    this.composite = new Uint8Array(pixels * 3).fill(255);
    this.visible = this.layers.map((l) => l.initiallyVisible);
    this.opacity = this.layers.map((l) => l.initialOpacity);
    this.transforms = this.layers.map(() => null);
    this.bounds = this.layers.map(() => null);
    const snapshotBytes = pixels * (this.layers.length + 3);
    const budget = options.snapshotBudgetBytes ?? DEFAULT_SNAPSHOT_BUDGET;
    const count = Math.max(1, Math.floor(budget / snapshotBytes));
    this.snapshotInterval = Math.max(1, Math.ceil(OPERATION_COUNT / count));
    this.snapshots.set(0, this.takeSnapshot());
  }

  /** Number of operations applied in the current state. */
  get appliedCount(): number {
    return this.applied;
  }

  /** Brings the state to `count` applied operations (0..OPERATION_COUNT). */
  seek(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > OPERATION_COUNT) {
      throw new RangeError(`operation count must be an integer in 0..${OPERATION_COUNT}, got ${count}`);
    }
    const snapshotAt = Math.floor(count / this.snapshotInterval) * this.snapshotInterval;
    const nearest = this.nearestSnapshot(snapshotAt);
    if (count < this.applied || nearest.applied > this.applied) this.restore(nearest);
    while (this.applied < count) {
      this.apply(this.timeline.operations[this.applied]!);
      this.applied++;
      if (this.applied % this.snapshotInterval === 0 && !this.snapshots.has(this.applied)) {
        this.snapshots.set(this.applied, this.takeSnapshot());
      }
    }
  }

  seekToStep(step: number): void {
    if (!isStep(step)) throw new RangeError(`step must be an integer in 0..${MAX_STEP}, got ${step}`);
    this.seek(operationsAppliedAt(step));
  }

  /** The canvas at `step` (0 = finished, 999 = blank), as the artist would see it. */
  renderStep(step: number): RgbImage {
    this.seekToStep(step);
    return this.currentCanvas();
  }

  /** The canvas in the current state, with the global curve and the canvas flip applied. */
  currentCanvas(): RgbImage {
    const out = new Uint8Array(this.composite.length);
    const curve = this.curve;
    if (isIdentityCurve(curve)) {
      out.set(this.composite);
    } else {
      applyCurve(this.composite, out, curve);
    }
    if (this.flipped) flipRowsInPlace(out, this.width, this.height);
    return { width: this.width, height: this.height, channels: 3, data: out };
  }

  /**
   * The paint in the current state: every layer over white paper, before the global curve and the
   * canvas flip (RGB, row-major). A live view of the renderer's own buffer, for read-only consumers
   * that must not pay for a full-canvas copy per operation (eval/metrics/replay.ts); it changes on every seek.
   */
  get compositeView(): Uint8Array {
    return this.composite;
  }

  /** Whether the canvas is flipped in the current state. */
  get isFlipped(): boolean {
    return this.flipped;
  }

  /** Every layer as it stands at `step`, for layer exports. */
  layerImages(step: number): LayerImage[] {
    this.seekToStep(step);
    return this.layers.map((spec, index) => {
      const image = createRgba(this.width, this.height);
      const src = spec.content.data;
      const cover = this.reveal[index]!;
      const dst = image.data;
      const opacity = this.opacity[index]!;
      for (let i = 0, p = 0; i < cover.length; i++, p += 4) {
        const a = cover[i]!;
        if (a === 0) continue;
        dst[p] = src[p]!;
        dst[p + 1] = src[p + 1]!;
        dst[p + 2] = src[p + 2]!;
        dst[p + 3] = Math.round((src[p + 3]! * a * opacity) / 255);
      }
      return { spec, image, visible: this.visible[index]! };
    });
  }

  private nearestSnapshot(atMost: number): Snapshot {
    for (let at = atMost; at >= 0; at -= this.snapshotInterval) {
      const snapshot = this.snapshots.get(at);
      if (snapshot) return snapshot;
    }
    return this.snapshots.get(0)!;
  }

  private takeSnapshot(): Snapshot {
    return {
      applied: this.applied,
      reveal: this.reveal.map((r) => r.slice()),
      composite: this.composite.slice(),
      visible: [...this.visible],
      opacity: [...this.opacity],
      flipped: this.flipped,
      curve: this.curve,
      transforms: [...this.transforms],
      bounds: this.bounds.map((b) => (b ? ([...b] as Box) : null)),
    };
  }

  private restore(snapshot: Snapshot): void {
    snapshot.reveal.forEach((r, i) => this.reveal[i]!.set(r));
    this.composite.set(snapshot.composite);
    this.visible = [...snapshot.visible];
    this.opacity = [...snapshot.opacity];
    this.flipped = snapshot.flipped;
    this.curve = snapshot.curve;
    this.transforms = [...snapshot.transforms];
    this.bounds = snapshot.bounds.map((b) => (b ? ([...b] as Box) : null));
    this.applied = snapshot.applied;
  }

  private apply(op: Operation): void {
    switch (op.kind) {
      case 'reveal':
        this.applyReveal(op.layer, op.stamp, op.strength);
        return;
      case 'visibility':
        if (this.visible[op.layer] !== op.visible) {
          this.visible[op.layer] = op.visible;
          this.recompositeLayerArea(op.layer);
        }
        return;
      case 'opacity':
        if (this.opacity[op.layer] !== op.opacity) {
          this.opacity[op.layer] = op.opacity;
          this.recompositeLayerArea(op.layer);
        }
        return;
      case 'flip':
        this.flipped = op.flipped;
        return;
      case 'curve':
        this.curve = op.curve;
        return;
      case 'transform': {
        const before = this.transforms[op.layer] ?? null;
        const after = op.region ? this.activeTransform(op.region, op.dx, op.dy, op.scale) : null;
        this.transforms[op.layer] = after;
        if (before) this.recompositeBox(before.box);
        if (after) this.recompositeBox(after.box);
        return;
      }
    }
  }

  private activeTransform(region: Stamp, dx: number, dy: number, scale: number): ActiveTransform {
    const s = this.timeline.planScale;
    const cx = region.x + region.width / 2;
    const cy = region.y + region.height / 2;
    // The moved region's box in plan pixels, united with its original box.
    const mx0 = cx + (region.x - cx) * scale + dx;
    const my0 = cy + (region.y - cy) * scale + dy;
    const mx1 = cx + (region.x + region.width - cx) * scale + dx;
    const my1 = cy + (region.y + region.height - cy) * scale + dy;
    const box = this.clampBox([
      Math.floor(Math.min(region.x, mx0) * s) - 1,
      Math.floor(Math.min(region.y, my0) * s) - 1,
      Math.ceil(Math.max(region.x + region.width, mx1) * s) + 1,
      Math.ceil(Math.max(region.y + region.height, my1) * s) + 1,
    ]);
    return { region, dx, dy, scale, box };
  }

  private clampBox(box: Box): Box {
    return [
      Math.max(0, Math.min(this.width, box[0])),
      Math.max(0, Math.min(this.height, box[1])),
      Math.max(0, Math.min(this.width, box[2])),
      Math.max(0, Math.min(this.height, box[3])),
    ];
  }

  private stampBox(stamp: Stamp): Box {
    const s = this.timeline.planScale;
    return this.clampBox([
      Math.floor(stamp.x * s),
      Math.floor(stamp.y * s),
      Math.ceil((stamp.x + stamp.width) * s),
      Math.ceil((stamp.y + stamp.height) * s),
    ]);
  }

  private applyReveal(layer: number, stamp: Stamp, strength: number): void {
    const box = this.stampBox(stamp);
    const [x0, y0, x1, y1] = box;
    if (x1 <= x0 || y1 <= y0) return;
    const s = this.timeline.planScale;
    const cover = this.reveal[layer]!;
    const { width: sw, height: sh, alpha } = stamp;
    // Bilinear sampling positions of each column, in stamp pixels.
    const cols = x1 - x0;
    const u0 = new Int32Array(cols);
    const fu = new Float32Array(cols);
    // Full-resolution pixels beyond the outermost plan pixel centres take the edge value, so a stamp
    // that touches the plan canvas border covers the full-resolution border too.
    const uMin = -stamp.x;
    const uMax = this.width / s - 1 - stamp.x;
    const vMin = -stamp.y;
    const vMax = this.height / s - 1 - stamp.y;
    for (let i = 0; i < cols; i++) {
      const u = Math.min(uMax, Math.max(uMin, (x0 + i + 0.5) / s - 0.5 - stamp.x));
      const f = Math.floor(u);
      u0[i] = f;
      fu[i] = u - f;
    }
    const transformed = this.transforms[layer] !== null;
    const scale = strength;
    let changedAny = false;
    for (let y = y0; y < y1; y++) {
      const v = Math.min(vMax, Math.max(vMin, (y + 0.5) / s - 0.5 - stamp.y));
      const v0 = Math.floor(v);
      const fv = v - v0;
      const rowA = v0 >= 0 && v0 < sh ? v0 * sw : -1;
      const rowB = v0 + 1 >= 0 && v0 + 1 < sh ? (v0 + 1) * sw : -1;
      if (rowA < 0 && rowB < 0) continue;
      const line = y * this.width;
      for (let i = 0; i < cols; i++) {
        const ua = u0[i]!;
        const ub = ua + 1;
        const a00 = rowA >= 0 && ua >= 0 && ua < sw ? alpha[rowA + ua]! : 0;
        const a01 = rowA >= 0 && ub >= 0 && ub < sw ? alpha[rowA + ub]! : 0;
        const a10 = rowB >= 0 && ua >= 0 && ua < sw ? alpha[rowB + ua]! : 0;
        const a11 = rowB >= 0 && ub >= 0 && ub < sw ? alpha[rowB + ub]! : 0;
        if ((a00 | a01 | a10 | a11) === 0) continue;
        const f = fu[i]!;
        const top = a00 + (a01 - a00) * f;
        const bottom = a10 + (a11 - a10) * f;
        const value = Math.round((top + (bottom - top) * fv) * scale);
        const index = line + x0 + i;
        if (value > cover[index]!) {
          cover[index] = value;
          changedAny = true;
          if (!transformed) this.compositePixel(x0 + i, y);
        }
      }
    }
    if (!changedAny) return;
    this.growBounds(layer, box);
    if (transformed) {
      // Moved pixels depend on coverage elsewhere: recomposite the whole affected area.
      this.recompositeBox(box);
      this.recompositeBox(this.transforms[layer]!.box);
    }
  }

  private growBounds(layer: number, box: Box): void {
    const b = this.bounds[layer];
    if (!b) {
      this.bounds[layer] = [...box];
      return;
    }
    b[0] = Math.min(b[0], box[0]);
    b[1] = Math.min(b[1], box[1]);
    b[2] = Math.max(b[2], box[2]);
    b[3] = Math.max(b[3], box[3]);
  }

  private recompositeLayerArea(layer: number): void {
    const box = this.bounds[layer];
    if (box) this.recompositeBox(box);
    const t = this.transforms[layer];
    if (t) this.recompositeBox(t.box);
  }

  private recompositeBox(box: Box): void {
    for (let y = box[1]; y < box[3]; y++) {
      for (let x = box[0]; x < box[2]; x++) this.compositePixel(x, y);
    }
  }

  /** Recomputes one composite pixel from paper and every visible layer. */
  private compositePixel(x: number, y: number): void {
    const index = y * this.width + x;
    let r = 255;
    let g = 255;
    let b = 255;
    const layers = this.layers;
    for (let l = 0; l < layers.length; l++) {
      if (!this.visible[l]) continue;
      const opacity = this.opacity[l]!;
      if (opacity <= 0) continue;
      const spec = layers[l]!;
      const t = this.transforms[l];
      let sr: number;
      let sg: number;
      let sb: number;
      let a: number;
      if (t && x >= t.box[0] && x < t.box[2] && y >= t.box[1] && y < t.box[3]) {
        const sample = this.transformedSample(l, t, x, y);
        if (sample === null) continue;
        [sr, sg, sb, a] = sample;
        a *= opacity;
      } else {
        const cover = this.reveal[l]![index]!;
        if (cover === 0) continue;
        const p = index * 4;
        const data = spec.content.data;
        const ca = data[p + 3]!;
        if (ca === 0) continue;
        sr = data[p]!;
        sg = data[p + 1]!;
        sb = data[p + 2]!;
        // Exactly 1 when content, coverage and opacity are all full: the top layer reproduces its content.
        a = cover === 255 && ca === 255 ? opacity : ((cover * ca) / 65025) * opacity;
      }
      if (spec.blend === 'normal') {
        r += (sr - r) * a;
        g += (sg - g) * a;
        b += (sb - b) * a;
      } else {
        r *= 1 - a + (a * sr) / 255;
        g *= 1 - a + (a * sg) / 255;
        b *= 1 - a + (a * sb) / 255;
      }
    }
    const o = index * 3;
    this.composite[o] = r + 0.5;
    this.composite[o + 1] = g + 0.5;
    this.composite[o + 2] = b + 0.5;
  }

  /**
   * Layer `l` at (x, y) while a transform moves its region: moved pixels come from the inverse-mapped
   * position, the vacated part of the region is empty. Returns [r, g, b, alpha 0..1] or null.
   */
  private transformedSample(l: number, t: ActiveTransform, x: number, y: number): [number, number, number, number] | null {
    const s = this.timeline.planScale;
    const region = t.region;
    const cx = region.x + region.width / 2;
    const cy = region.y + region.height / 2;
    // Plan coordinates of this pixel's centre, and where it came from.
    const px = (x + 0.5) / s;
    const py = (y + 0.5) / s;
    const qx = cx + (px - t.dx - cx) / t.scale;
    const qy = cy + (py - t.dy - cy) / t.scale;
    if (stampAt(region, qx, qy) >= 128) {
      return this.layerSampleBilinear(l, qx * s - 0.5, qy * s - 0.5);
    }
    if (stampAt(region, px, py) >= 128) return null;
    return this.layerSampleBilinear(l, x, y);
  }

  private layerSampleBilinear(l: number, fx: number, fy: number): [number, number, number, number] | null {
    const w = this.width;
    const h = this.height;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    const data = this.layers[l]!.content.data;
    const cover = this.reveal[l]!;
    let r = 0;
    let g = 0;
    let b = 0;
    let a = 0;
    for (let dy = 0; dy <= 1; dy++) {
      const yy = Math.min(h - 1, Math.max(0, y0 + dy));
      const wy = dy === 0 ? 1 - ay : ay;
      for (let dx = 0; dx <= 1; dx++) {
        const xx = Math.min(w - 1, Math.max(0, x0 + dx));
        const weight = wy * (dx === 0 ? 1 - ax : ax);
        if (weight === 0) continue;
        const i = yy * w + xx;
        const alpha = (cover[i]! * data[i * 4 + 3]!) / 65025;
        const wa = weight * alpha;
        r += data[i * 4]! * wa;
        g += data[i * 4 + 1]! * wa;
        b += data[i * 4 + 2]! * wa;
        a += wa;
      }
    }
    if (a <= 0) return null;
    return [r / a, g / a, b / a, a];
  }
}

/** Stamp alpha (0..255, bilinear) at plan coordinates. */
function stampAt(stamp: Stamp, px: number, py: number): number {
  const u = px - 0.5 - stamp.x;
  const v = py - 0.5 - stamp.y;
  const u0 = Math.floor(u);
  const v0 = Math.floor(v);
  const fu = u - u0;
  const fv = v - v0;
  const at = (uu: number, vv: number): number =>
    uu >= 0 && vv >= 0 && uu < stamp.width && vv < stamp.height ? stamp.alpha[vv * stamp.width + uu]! : 0;
  const top = at(u0, v0) + (at(u0 + 1, v0) - at(u0, v0)) * fu;
  const bottom = at(u0, v0 + 1) + (at(u0 + 1, v0 + 1) - at(u0, v0 + 1)) * fu;
  return top + (bottom - top) * fv;
}

export function isIdentityCurve(c: Curve): boolean {
  return c.contrast === 1 && c.saturation === 1 && c.lift === 0 && c.warmth === 0;
}

/** Per-channel lookup tables of a curve (before the saturation step). Black and white map to themselves. */
export function curveTables(c: Curve): [Uint8Array, Uint8Array, Uint8Array] {
  const tables: [Uint8Array, Uint8Array, Uint8Array] = [new Uint8Array(256), new Uint8Array(256), new Uint8Array(256)];
  const gamma = Math.pow(2, -c.lift);
  const warm = [Math.pow(2, -0.35 * c.warmth), 1, Math.pow(2, 0.35 * c.warmth)];
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < 256; i++) {
      let v = Math.pow(i / 255, gamma * warm[ch]!);
      // An S-curve with fixed end points; slope at mid grey = contrast.
      v = v + (c.contrast - 1) * 2 * v * (1 - v) * (2 * v - 1);
      tables[ch]![i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return tables;
}

function applyCurve(src: Uint8Array, dst: Uint8Array, c: Curve): void {
  const [tr, tg, tb] = curveTables(c);
  const sat = c.saturation;
  for (let i = 0; i < src.length; i += 3) {
    const r = tr[src[i]!]!;
    const g = tg[src[i + 1]!]!;
    const b = tb[src[i + 2]!]!;
    if (sat === 1) {
      dst[i] = r;
      dst[i + 1] = g;
      dst[i + 2] = b;
    } else {
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      dst[i] = luma + (r - luma) * sat + 0.5;
      dst[i + 1] = luma + (g - luma) * sat + 0.5;
      dst[i + 2] = luma + (b - luma) * sat + 0.5;
    }
  }
}

function flipRowsInPlace(data: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let l = 0, r = width - 1; l < r; l++, r--) {
      const a = row + l * 3;
      const b = row + r * 3;
      for (let c = 0; c < 3; c++) {
        const t = data[a + c]!;
        data[a + c] = data[b + c]!;
        data[b + c] = t;
      }
    }
  }
}

/** Checks the structural invariants every renderer relies on; throws with a precise message. */
export function validateTimeline(t: Timeline): void {
  if (t.operations.length !== OPERATION_COUNT) {
    throw new RangeError(`a timeline has exactly ${OPERATION_COUNT} operations, this one has ${t.operations.length}`);
  }
  if (!(t.planScale > 0)) throw new RangeError(`planScale must be > 0, got ${t.planScale}`);
  t.layers.forEach((layer, i) => {
    const c = layer.content;
    if (c.width !== t.width || c.height !== t.height || c.data.length !== t.width * t.height * 4) {
      throw new RangeError(`layer ${i} (${layer.id}) content must be ${t.width}x${t.height} RGBA`);
    }
  });
  t.operations.forEach((op, i) => {
    if ('layer' in op && (op.layer < 0 || op.layer >= t.layers.length || !Number.isInteger(op.layer))) {
      throw new RangeError(`operation ${i} names layer ${op.layer}, but there are ${t.layers.length} layers`);
    }
    const stamp = op.kind === 'reveal' ? op.stamp : op.kind === 'transform' ? op.region : null;
    if (stamp && stamp.alpha.length !== stamp.width * stamp.height) {
      throw new RangeError(`operation ${i} has a ${stamp.width}x${stamp.height} stamp with ${stamp.alpha.length} values`);
    }
  });
}
