/**
 * Interpolation: a timeline that starts from one image (e.g. the artist's sketch) and paints towards
 * another (their finished piece). The bottom layer is `from`, revealed whole by the first operation;
 * new line art is inked where the images differ, then brush strokes bring in `to` where it differs,
 * largest differences near the pen first, until `to` is reached exactly.
 */
import type { SourceImage } from '../../core/backend.js';
import { artworkContent, imageContent, opaque } from '../../core/content.js';
import { cancelledError, PaintsUndoError } from '../../core/errors.js';
import { OPERATION_COUNT } from '../../core/steps.js';
import type { LayerSpec, Operation, Timeline } from '../../core/timeline.js';
import { analyse, subjectStart } from './analyse.js';
import { BrushPainter, flowField } from './brush.js';
import { prepareLineArt } from './phases/lineart.js';
import { renderPasses } from './phases/rendering.js';
import { CLASSIC_VERSION } from './planner.js';
import { reveals } from './recipes/plan.js';
import { downscaleRgb, gaussianBlur } from './raster.js';
import { Rng } from './rng.js';

export function checkSameSize(from: SourceImage, to: SourceImage): void {
  const a = from.image;
  const b = to.image;
  if (a.width !== b.width || a.height !== b.height) {
    throw new PaintsUndoError(
      'INVALID_OPTION',
      `Expected images of the same size for from and to but received ${a.width}x${a.height} and ${b.width}x${b.height}.`,
      {
        hint: `Resize the earlier image to ${b.width}x${b.height} (the size of the later one) and try again.`,
        details: { option: 'from', from: [a.width, a.height], to: [b.width, b.height] },
      },
    );
  }
}

export function planInterpolation(from: SourceImage, to: SourceImage, seed: number, signal?: AbortSignal): Timeline {
  checkSameSize(from, to);
  const check = (): void => {
    if (signal?.aborted) throw cancelledError();
  };
  const a = analyse(to.image);
  check();
  const { pw, ph, scale } = a;
  const n = pw * ph;
  const before = downscaleRgb(from.image, pw, ph, scale);
  const diff = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    diff[i] = Math.abs(a.img.r[i]! - before.r[i]!) + Math.abs(a.img.g[i]! - before.g[i]!) + Math.abs(a.img.b[i]! - before.b[i]!);
  }
  const rng = new Rng(seed ^ 0x5bd1e995);
  // Ink only the lines that are new (or moved): line pixels of `to` where `from` differs.
  const newLines = new Uint8Array(n);
  for (let i = 0; i < n; i++) newLines[i] = a.lineMask[i] && diff[i]! > 40 ? 1 : 0;
  const lineRng = rng.fork(1);
  const lines = prepareLineArt({ ...a, lineMask: newLines }, lineRng, check);
  const lineMarks = lines.propose(300, lineRng);
  check();
  const BASE = 0;
  const LINES = 1;
  const TOP = 2;
  const base: Operation = {
    kind: 'reveal',
    phase: 'sketch',
    layer: BASE,
    stamp: { x: -1, y: -1, width: pw + 2, height: ph + 2, alpha: new Uint8Array((pw + 2) * (ph + 2)).fill(255) },
    strength: 1,
    tool: 'bucket',
  };
  const lineOps: Operation[] = reveals(LINES, 'lineart', 'pen', lineMarks);
  const painter = new BrushPainter(pw, ph, gaussianBlur(diff, pw, ph, 1), flowField(a.lum, pw, ph), rng.fork(2), subjectStart(a));
  const renderOps = reveals(TOP, 'rendering', 'brush', renderPasses(painter, OPERATION_COUNT - 1 - lineOps.length, Math.max(pw, ph), check));
  const { width: W, height: H } = to.image;
  const layers: LayerSpec[] = [
    { id: 'from', name: 'Earlier state', blend: 'normal', content: imageContent({ image: opaque(from.image) }), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'lineart', name: 'New line art', blend: 'normal', content: lines.content(), initiallyVisible: true, initialOpacity: 1, exported: true },
    { id: 'rendering', name: 'Painting', blend: 'normal', content: artworkContent({}), initiallyVisible: true, initialOpacity: 1, exported: true },
  ];
  return {
    width: W,
    height: H,
    planScale: scale,
    finished: to.image,
    layers,
    operations: [base, ...lineOps, ...renderOps],
    info: { backend: 'classic', backendVersion: CLASSIC_VERSION, seed, style: 'interpolation' },
  };
}

/** Operation counts of `frames` frames strictly between the `from` state (1 applied) and `to` (all applied). */
export function interpolationCounts(frames: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= frames; k++) out.push(1 + Math.round(((OPERATION_COUNT - 1) * k) / (frames + 1)));
  return out;
}
