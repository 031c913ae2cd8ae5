/**
 * The WD14 tagger of the official app (wd14tagger.py, wd-v1-4-moat-tagger-v2): preprocessing, thresholds
 * and tag formatting. The ONNX model and its tag CSV are a user download (lllyasviel/misc); running the
 * model goes through the runtime adapter like every other session.
 */
import type { RgbImage } from '../../../engine/src/core/image.js';
import { PaintsUndoError } from '../../../engine/src/core/errors.js';

export const WD14_MODEL_NAME = 'wd-v1-4-moat-tagger-v2';
/** default_interrogator(threshold=0.35, character_threshold=0.85). */
export const WD14_THRESHOLDS = { general: 0.35, character: 0.85 } as const;

// ---------------------------------------------------------------------------------------------
// Pillow's Image.resize(..., Image.LANCZOS) for 8-bit RGB (ImagingResample, two separable passes,
// horizontal first, 22-bit fixed-point coefficients).

const PRECISION_BITS = 32 - 8 - 2;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

interface Coefficients {
  readonly bounds: Int32Array;
  readonly kernels: Int32Array;
  readonly ksize: number;
}

function precompute(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 3 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kernels = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax && ww !== 0 ? (pre[x] ?? 0) / ww : 0;
      kernels[xx * ksize + x] = Math.trunc(v * (1 << PRECISION_BITS) + (v < 0 ? -0.5 : 0.5));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kernels, ksize };
}

function clip8(v: number): number {
  const s = Math.floor(v / (1 << PRECISION_BITS));
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

function resampleAxis(src: Uint8Array, width: number, height: number, outSize: number, horizontal: boolean): Uint8Array {
  const inSize = horizontal ? width : height;
  const { bounds, kernels, ksize } = precompute(inSize, outSize);
  const ow = horizontal ? outSize : width;
  const oh = horizontal ? height : outSize;
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const o = horizontal ? x : y;
      const min = bounds[o * 2] ?? 0;
      const count = bounds[o * 2 + 1] ?? 0;
      for (let c = 0; c < 3; c++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let k = 0; k < count; k++) {
          const sx = horizontal ? min + k : x;
          const sy = horizontal ? y : min + k;
          ss += (src[(sy * width + sx) * 3 + c] ?? 0) * (kernels[o * ksize + k] ?? 0);
        }
        out[(y * ow + x) * 3 + c] = clip8(ss);
      }
    }
  }
  return out;
}

/** PIL Image.resize((width, height), Image.LANCZOS) for an RGB image. */
export function resizeLanczos(image: RgbImage, width: number, height: number): RgbImage {
  let data = image.data;
  let w = image.width;
  if (width !== image.width) {
    data = resampleAxis(data, image.width, image.height, width, true);
    w = width;
  }
  if (height !== image.height) data = resampleAxis(data, w, image.height, height, false);
  return { width, height, channels: 3, data: data === image.data ? data.slice() : data };
}

/**
 * The tagger input of default_interrogator: fit the long side to `size` (truncating), LANCZOS, paste
 * centred on white, float32 BGR, NHWC [1, size, size, 3].
 */
export function wd14Input(image: RgbImage, size: number): Float32Array {
  const ratio = size / Math.max(image.width, image.height);
  const nw = Math.trunc(image.width * ratio);
  const nh = Math.trunc(image.height * ratio);
  const resized = resizeLanczos(image, nw, nh);
  const x0 = Math.floor((size - nw) / 2);
  const y0 = Math.floor((size - nh) / 2);
  const out = new Float32Array(size * size * 3).fill(255);
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const s = (y * nw + x) * 3;
      const d = ((y + y0) * size + x + x0) * 3;
      out[d] = resized.data[s + 2] ?? 0;
      out[d + 1] = resized.data[s + 1] ?? 0;
      out[d + 2] = resized.data[s] ?? 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tags.

export interface TagRow {
  readonly name: string;
  /** "0" general, "4" character, others (e.g. "9" rating) ignored by the thresholds. */
  readonly category: string;
}

function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** selected_tags.csv: header, then tag_id,name,category,count. */
export function parseTagCsv(text: string): TagRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  return lines.slice(1).map((line, i) => {
    const cells = parseCsvLine(line);
    if (cells.length < 3) {
      throw new PaintsUndoError('MODEL_MISSING', `The WD14 tag CSV has a malformed row ${i + 2}: ${JSON.stringify(line)}.`, {
        hint: `Download ${WD14_MODEL_NAME}.csv again.`,
      });
    }
    return { name: cells[1] ?? '', category: cells[2] ?? '' };
  });
}

/**
 * default_interrogator's post-processing: general tags are the rows from the first category-0 row up to
 * the first category-4 row, characters from there on; character tags first, then general; "(" and ")"
 * escaped, underscores to spaces, joined by ", ".
 */
export function formatTags(
  rows: readonly TagRow[],
  probs: ArrayLike<number>,
  options: { general?: number; character?: number; exclude?: string } = {},
): string {
  const general = options.general ?? WD14_THRESHOLDS.general;
  const character = options.character ?? WD14_THRESHOLDS.character;
  const generalIndex = rows.findIndex((r) => r.category === '0');
  const characterIndex = rows.findIndex((r, i) => r.category === '4' && (generalIndex < 0 || i !== generalIndex));
  const result = rows.map((r, i) => [r.name, probs[i] ?? 0] as const);
  // Python slicing with None bounds: result[g:c] and result[c:].
  const g0 = generalIndex < 0 ? 0 : generalIndex;
  const c0 = characterIndex < 0 ? result.length : characterIndex;
  const generalTags = result.slice(g0, characterIndex < 0 ? undefined : c0).filter(([, p]) => p > general);
  const characterTags = (characterIndex < 0 ? result : result.slice(c0)).filter(([, p]) => p > character);
  const remove = new Set((options.exclude ?? '').toLowerCase().split(',').map((s) => s.trim()));
  const all = [...characterTags, ...generalTags].filter(([name]) => !remove.has(name));
  return all
    .map(([name]) => name.replaceAll('(', '\\(').replaceAll(')', '\\)'))
    .join(', ')
    .replaceAll('_', ' ');
}
