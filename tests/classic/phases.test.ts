/**
 * Each phase of the classic planner alone, on small synthetic images: what it reveals, where its marks
 * go and how it honours a budget. The whole-process promises are in plan.test.ts and tests/quality/.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { analyse, type Analysis } from '../../engine/src/backends/classic/analyse.js';
import { flowField } from '../../engine/src/backends/classic/brush.js';
import { mergeStamps, shareBudget } from '../../engine/src/backends/classic/budget.js';
import { curveSettle, flipEpisode, hideEpisode, liftAndMove, placeHide } from '../../engine/src/backends/classic/habits.js';
import { SHORTEST_HIDE } from '../../engine/src/backends/classic/pacing.js';
import { BlockIn } from '../../engine/src/backends/classic/phases/block-in.js';
import { LayIn } from '../../engine/src/backends/classic/phases/lay-in.js';
import { prepareFinalPass } from '../../engine/src/backends/classic/phases/final-pass.js';
import { paper, prepareFlats } from '../../engine/src/backends/classic/phases/flats.js';
import { joinMasses } from '../../engine/src/backends/classic/phases/masses.js';
import { prepareLineArt } from '../../engine/src/backends/classic/phases/lineart.js';
import type { Mark } from '../../engine/src/backends/classic/phases/phase.js';
import { Refinement } from '../../engine/src/backends/classic/phases/refinement.js';
import { valueHold } from '../../engine/src/backends/classic/content.js';
import { brushSizes, prepareRendering } from '../../engine/src/backends/classic/phases/rendering.js';
import { prepareShading } from '../../engine/src/backends/classic/phases/shading.js';
import { prepareSketch, SKETCH_INK } from '../../engine/src/backends/classic/phases/sketch.js';
import { Rng } from '../../engine/src/backends/classic/rng.js';
import { FLAT_REGIONS, segment } from '../../engine/src/backends/classic/segment.js';
import { renderContent, type LayerContent } from '../../engine/src/core/content.js';
import type { RgbaImage } from '../../engine/src/core/image.js';
import { IDENTITY_CURVE, type Operation } from '../../engine/src/core/timeline.js';
import { PAINTERLY_SVG, fromSvg } from './helpers.js';

const noCheck = (): void => {};

/** A phase's layer content rendered at the input's own size. */
function atFullSize(a: Analysis, content: LayerContent): RgbaImage {
  return renderContent(content, { art: a.full, scale: a.scale });
}

/** Two outlined shapes on a tinted background: line art, flats and a little shading. */
const OUTLINED = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="112">
<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f2c9a0"/><stop offset="1" stop-color="#c98a5a"/></linearGradient></defs>
<rect width="128" height="112" fill="#dfe8f0"/>
<circle cx="48" cy="52" r="30" fill="url(#g)" stroke="#1a1a1a" stroke-width="3"/>
<rect x="78" y="30" width="36" height="60" fill="#3f7fbf" stroke="#1a1a1a" stroke-width="3"/></svg>`;

/** A strong vertical gradient (cut into bands by region growing) behind a solid square. */
const GRADIENT_BACKGROUND = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="128">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2f6fd0"/><stop offset="1" stop-color="#f0c0a0"/></linearGradient></defs>
<rect width="96" height="128" fill="url(#sky)"/><rect x="32" y="48" width="32" height="32" fill="#c02020"/></svg>`;

/** The union (max) of marks' alpha at plan resolution. */
function coverage(marks: readonly Mark[], pw: number, ph: number): Uint8Array {
  const out = new Uint8Array(pw * ph);
  for (const { stamp: s, strength } of marks) {
    for (let y = 0; y < s.height; y++) {
      for (let x = 0; x < s.width; x++) {
        const px = x + s.x;
        const py = y + s.y;
        if (px < 0 || py < 0 || px >= pw || py >= ph) continue;
        const v = Math.round(s.alpha[y * s.width + x]! * strength);
        if (v > out[py * pw + px]!) out[py * pw + px] = v;
      }
    }
  }
  return out;
}

const lumaAt = (a: Analysis, i: number): number => 0.299 * a.img.r[i]! + 0.587 * a.img.g[i]! + 0.114 * a.img.b[i]!;

describe('classic phases, each alone', () => {
  let outlined: Analysis;
  let painterly: Analysis;
  before(async () => {
    outlined = analyse((await fromSvg(OUTLINED)).image);
    painterly = analyse((await fromSvg(PAINTERLY_SVG)).image);
  });

  it('budget: shares are capped by capacity, the rest goes to the others, nothing is lost', () => {
    const b = shareBudget(100, { a: { target: 0.5, cap: 10 }, b: { target: 0.25, cap: 1000 }, c: { target: 0.25, cap: 1000 } });
    assert.equal(b.a, 10);
    assert.equal(b.a + b.b + b.c, 100);
    assert.ok(Math.abs(b.b - b.c) <= 1, `uncapped phases share by target: ${b.b} vs ${b.c}`);
    // Nobody can take the rest: the last phase gets it.
    const full = shareBudget(50, { a: { target: 1, cap: 5 }, z: { target: 1, cap: 5 } });
    assert.equal(full.a + full.z, 50);
  });

  it('budget: merging marks keeps their union and merges neighbours, not far-apart marks', () => {
    const dot = (x: number, y: number): Mark => ({ stamp: { x, y, width: 2, height: 2, alpha: new Uint8Array([255, 255, 255, 255]) }, strength: 1 });
    const marks = [dot(0, 0), dot(2, 0), dot(40, 40), dot(42, 40)];
    const merged = mergeStamps(marks, 2);
    assert.equal(merged.length, 2);
    assert.deepEqual(coverage(merged, 48, 48), coverage(marks, 48, 48));
    assert.ok(merged.every((m) => m.stamp.width <= 4 && m.stamp.height <= 2), 'far-apart marks were merged into one operation');
    assert.equal(mergeStamps(marks, 10).length, 4);
    assert.equal(mergeStamps(marks, 1).length, 1);
    // A phase given no operation (a tiny canvas) draws nothing rather than failing.
    assert.deepEqual(mergeStamps(marks, 0), []);
  });

  it('sketch: passes over the same shapes search a little wider each time, so each still lays new pencil', () => {
    const sketch = prepareSketch(painterly, new Rng(1), noCheck);
    const n = sketch.strokes.length;
    const { pw, ph } = painterly;
    const covered = (passes: number): number => coverage(sketch.propose(n * passes, new Rng(2)), pw, ph).filter((v) => v >= 32).length;
    const [one, two, three, four] = [1, 2, 3, 4].map(covered) as [number, number, number, number];
    assert.ok(one < two && two < three && three < four, `pencil after 1-4 passes: ${one}, ${two}, ${three}, ${four} px`);
    // The fourth pass adds nearly as much new pencil as the second: a loose line beside the first ones, not over them.
    assert.ok(four - three >= 0.85 * (two - one), `new pencil per pass: ${two - one}, ${three - two}, ${four - three} px`);
  });

  it('capacities count only the marks a viewer can see: faint lines and pale fills take few operations', async () => {
    // The same drawing with lines barely darker than the paper and fills barely off-white (held back, as the recipe lays them).
    const faint = analyse((await fromSvg(OUTLINED.replace(/#1a1a1a/g, '#e4e4e4').replace('#3f7fbf', '#f6f8fb').replace('#dfe8f0', '#fcfcfd'))).image);
    const hold = valueHold(0.7);
    const strong = prepareLineArt(outlined, new Rng(2), noCheck);
    const weak = prepareLineArt(faint, new Rng(2), noCheck);
    assert.ok(strong.capacity > 0);
    // The faint lines are traced, but no stroke along them would change the paper clearly.
    assert.ok(weak.paths.totalLength > 50, `faint lines traced: ${weak.paths.totalLength} px`);
    assert.equal(weak.capacity, 0);
    assert.ok(strong.capacity >= strong.paths.totalLength / 8, `dark lines: ${strong.capacity} strokes along ${strong.paths.totalLength} px`);
    const flatsOf = (a: Analysis): number => prepareFlats(a, segment(a, FLAT_REGIONS, noCheck), false, hold).capacity;
    assert.ok(flatsOf(faint) < flatsOf(outlined), `pale fills: ${flatsOf(faint)} operations, coloured fills: ${flatsOf(outlined)}`);
  });

  it('sketch: pencil strokes along the big edges, as many as the budget asks', () => {
    const rng = new Rng(1);
    const sketch = prepareSketch(outlined, rng, noCheck);
    assert.ok(sketch.capacity > 0);
    const marks = sketch.propose(30, rng);
    assert.equal(marks.length, 30);
    assert.ok(marks.every((m) => m.strength > 0 && m.strength <= 1));
    // Strokes lie along edges: most of their ink is within a few pixels of a strong colour change.
    const { pw, ph } = outlined;
    const cov = coverage(marks, pw, ph);
    let near = 0;
    let inked = 0;
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        if (cov[y * pw + x]! < 128) continue;
        inked++;
        let edge = false;
        for (let dy = -5; dy <= 5 && !edge; dy++) {
          for (let dx = -5; dx <= 5 && !edge; dx++) {
            const xx = Math.min(pw - 2, Math.max(0, x + dx));
            const yy = Math.min(ph - 2, Math.max(0, y + dy));
            const i = yy * pw + xx;
            edge = Math.abs(lumaAt(outlined, i) - lumaAt(outlined, i + 1)) > 25 || Math.abs(lumaAt(outlined, i) - lumaAt(outlined, i + pw)) > 25;
          }
        }
        if (edge) near++;
      }
    }
    assert.ok(inked > 50 && near / inked > 0.8, `${near} of ${inked} sketch pixels near an edge`);
    const content = atFullSize(outlined, sketch.content());
    assert.deepEqual([...content.data.subarray(0, 4)], [...SKETCH_INK, 255]);
  });

  it("line art: the layer holds the input's own line pixels; pen strokes reveal them within the budget", () => {
    const rng = new Rng(2);
    const lines = prepareLineArt(outlined, rng, noCheck);
    const content = atFullSize(outlined, lines.content());
    const src = outlined.full.data;
    let solid = 0;
    let dark = 0;
    for (let i = 0; i < src.length / 3; i++) {
      if (content.data[i * 4 + 3]! < 200) continue;
      solid++;
      // Ink is where the input is dark (anti-aliased line borders aside), in the input's own colour.
      if (0.299 * src[i * 3]! + 0.587 * src[i * 3 + 1]! + 0.114 * src[i * 3 + 2]! < 110) dark++;
      assert.deepEqual([...content.data.subarray(i * 4, i * 4 + 3)], [...src.subarray(i * 3, i * 3 + 3)]);
    }
    assert.ok(dark / solid > 0.9, `${dark} of ${solid} solid line pixels are dark in the input`);
    assert.ok(solid > 300, `only ${solid} solid line pixels`);
    const budget = Math.min(lines.capacity, 40);
    const marks = lines.propose(budget, rng);
    assert.ok(marks.length > 0 && marks.length <= budget);
    const cov = coverage(marks, outlined.pw, outlined.ph);
    let ink = 0;
    let revealed = 0;
    for (let i = 0; i < cov.length; i++) {
      ink += lines.alphaPlan[i]!;
      revealed += (lines.alphaPlan[i]! * cov[i]!) / 255;
    }
    assert.ok(revealed / ink > 0.9, `pen strokes reveal ${((100 * revealed) / ink).toFixed(1)}% of the ink`);
  });

  it('masses: the bands region growing cuts a gradient into are one mass, a shape with a visible border is not', async () => {
    const a = analyse((await fromSvg(GRADIENT_BACKGROUND)).image);
    const seg = segment(a, FLAT_REGIONS, noCheck);
    const { pw, ph } = a;
    const at = (x: number, y: number): number => seg.labels[y * pw + x]!;
    // The premise: region growing splits the sky's gradient into bands (their border is not in the art).
    assert.notEqual(at(4, 2), at(4, ph - 3), 'the test gradient should be cut into bands by the segmentation');
    const painted = new Set(seg.regions.filter((r) => !paper(r)).map((r) => r.label));
    const masses = joinMasses(seg, a.img, pw, painted);
    const mass = (x: number, y: number): number => masses.labels[y * pw + x]!;
    assert.equal(mass(4, 2), mass(4, ph - 3), 'the whole gradient is laid in as one mass');
    assert.equal(mass(pw - 5, 2), mass(4, ph - 3));
    assert.notEqual(mass(Math.round(pw / 2), Math.round(ph / 2)), mass(4, 2), 'the square keeps its own mass');
    for (const [k, list] of masses.members.entries()) for (const l of list) assert.equal(masses.regions[k]!.label, k + 1, `member ${l}`);
    assert.equal(masses.regions.reduce((acc, m) => acc + m.area, 0), pw * ph);
  });

  it('flats: one flat colour per region, every painted region filled, each fill inside its region or mass', () => {
    const seg = segment(outlined, FLAT_REGIONS, noCheck);
    const flats = prepareFlats(outlined, seg, false, valueHold(0.7));
    const masses = joinMasses(seg, outlined.img, outlined.pw, flats.painted);
    // At its capacity every chunk is its own operation (nothing merged): each fill stays in its region.
    const marks = flats.propose(flats.capacity, new Rng(3));
    assert.ok(marks.length > 0 && marks.length <= flats.capacity);
    const { pw, ph } = outlined;
    const cov = coverage(marks, pw, ph);
    for (let i = 0; i < pw * ph; i++) {
      const region = seg.regions[seg.labels[i]! - 1]!;
      if (Math.min(...region.flat) < 250) assert.equal(cov[i], 255, `pixel ${i} of a painted region is left unfilled`);
    }
    for (const { stamp: s } of marks) {
      const count = new Map<number, number>();
      let all = 0;
      for (let y = 0; y < s.height; y++) {
        for (let x = 0; x < s.width; x++) {
          const px = x + s.x;
          const py = y + s.y;
          // Chunks are grown by one pixel to overlap their neighbours: judge the chunk itself (eroded back).
          const inner = x > 0 && y > 0 && x < s.width - 1 && y < s.height - 1 && [-1, 1, -s.width, s.width].every((d) => s.alpha[y * s.width + x + d] === 255);
          if (s.alpha[y * s.width + x] !== 255 || !inner || px < 0 || py < 0 || px >= pw || py >= ph) continue;
          const l = masses.labels[py * pw + px]!;
          count.set(l, (count.get(l) ?? 0) + 1);
          all++;
        }
      }
      const top = Math.max(...count.values());
      assert.ok(top >= all * 0.75 || all < 30, `a fill has only ${top} of ${all} pixels in its main mass`);
    }
    // Fewer operations than chunks: neighbouring chunks are merged, the whole is still filled.
    const fewer = flats.propose(Math.max(1, Math.floor(flats.capacity / 3)), new Rng(3));
    assert.ok(fewer.length <= Math.max(1, Math.floor(flats.capacity / 3)));
    assert.deepEqual(coverage(fewer, pw, ph), cov);
    const content = atFullSize(outlined, flats.content()).data;
    const colours = new Set<string>();
    for (let q = 0; q < content.length; q += 4) colours.add(`${content[q]},${content[q + 1]},${content[q + 2]}`);
    assert.ok(colours.size <= seg.regions.length, `${colours.size} colours for ${seg.regions.length} regions`);
  });

  it('shading: between the flats and the final, never past it', () => {
    const rng = new Rng(4);
    const lines = prepareLineArt(outlined, rng, noCheck);
    const seg = segment(outlined, FLAT_REGIONS, noCheck);
    const flats = prepareFlats(outlined, seg, false, valueHold(0.7));
    const shading = prepareShading(outlined, seg, flats.flats, lines.alphaPlan, noCheck);
    const flat = atFullSize(outlined, flats.content()).data;
    const shaded = atFullSize(outlined, shading.content()).data;
    const src = outlined.full.data;
    for (let i = 0; i < src.length / 3; i++) {
      for (let c = 0; c < 3; c++) {
        const lo = Math.min(flat[i * 4 + c]!, src[i * 3 + c]!);
        const hi = Math.max(flat[i * 4 + c]!, src[i * 3 + c]!);
        const v = shaded[i * 4 + c]!;
        assert.ok(v >= lo - 1 && v <= hi + 1, `shading ${v} outside [${lo}, ${hi}] at pixel ${i}`);
      }
    }
    // The gradient-filled circle is shaded.
    assert.ok(shading.capacity > 0);
    const marks = shading.propose(Math.min(20, shading.capacity), rng);
    assert.ok(marks.length > 0 && marks.length <= 20);
  });

  it('rendering: every plan pixel fully covered at the end, exactly the budget while there is something to paint', () => {
    const { pw, ph } = outlined;
    const flow = flowField(outlined.lum, pw, ph);
    const error = new Float32Array(pw * ph).fill(30);
    const rendering = prepareRendering(outlined, error, 2, flow, noCheck);
    for (const budget of [12, 80]) {
      const marks = rendering.propose(budget, new Rng(5));
      assert.equal(marks.length, budget);
      const cov = coverage(marks, pw, ph);
      assert.ok(cov.every((v) => v === 255), `budget ${budget}: some plan pixels are not fully covered`);
    }
    // Little to paint (one small patch off by a visible amount): fewer marks, never idle ones, still
    // fully covered; asked for exactly the budget, it paints them all.
    const patch = new Float32Array(pw * ph);
    for (let y = 40; y < 50; y++) for (let x = 40; x < 50; x++) patch[y * pw + x] = 60;
    const few = prepareRendering(outlined, patch, 2, flow, noCheck);
    const marks = few.propose(200, new Rng(6));
    assert.ok(marks.length < 60, `${marks.length} marks for a 10x10 patch`);
    assert.ok(coverage(marks, pw, ph).every((v) => v === 255));
    assert.equal(few.propose(200, new Rng(6), true).length, 200);
  });

  it('final pass: within its budget, every pixel darker than paper fully covered, pure paper left alone', async () => {
    // A white page with one shape: the pass covers the shape, not the paper around it.
    const page = analyse(
      (await fromSvg(`<svg xmlns="http://www.w3.org/2000/svg" width="128" height="112"><rect width="128" height="112" fill="#fff"/><circle cx="48" cy="52" r="26" fill="#3f7fbf"/></svg>`)).image,
    );
    const { pw, ph } = page;
    const pass = prepareFinalPass(page, flowField(page.lum, pw, ph), noCheck);
    const marks = pass.propose(40, new Rng(3));
    assert.ok(marks.length > 0 && marks.length <= 40, `${marks.length} marks`);
    const cov = coverage(marks, pw, ph);
    let shapeUncovered = 0;
    let paperCovered = 0;
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        const d = Math.hypot(x - 48, y - 52);
        if (d < 25 && cov[y * pw + x]! < 255) shapeUncovered++;
        if (d > 50 && cov[y * pw + x]! > 0) paperCovered++;
      }
    }
    assert.equal(shapeUncovered, 0, 'the final pass left part of the shape at its held value');
    assert.ok(paperCovered < pw * ph * 0.05, `${paperCovered} paper pixels far from the shape were painted over`);
    // The content is the artwork itself: step 0 exact.
    const full = atFullSize(page, pass.content());
    assert.equal(full.data[(52 * page.full.width + 48) * 4], page.full.data[(52 * page.full.width + 48) * 3]);
  });

  it('rendering brush sizes: broad in a smooth field, the usual size among details', async () => {
    // A soft vertical gradient on the left half, fine stripes on the right half.
    const stripes = Array.from({ length: 16 }, (_, k) => `<rect x="${96 + k * 4}" y="0" width="2" height="96" fill="#202830"/>`).join('');
    const a = analyse(
      (await fromSvg(
        `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="96"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#bcd8f2"/><stop offset="1" stop-color="#f4d6e4"/></linearGradient></defs><rect width="160" height="96" fill="url(#g)"/><rect x="80" width="80" height="96" fill="#fff"/>${stripes}</svg>`,
      )).image,
    );
    const size = brushSizes(a);
    const at = (x: number, y: number): number => size[y * a.pw + x]!;
    assert.ok(at(20, 48) > 2, `smooth gradient: brush x${at(20, 48).toFixed(2)}`);
    assert.ok(at(125, 48) < 1.2, `fine stripes: brush x${at(125, 48).toFixed(2)}`);
  });

  it('final pass: an even pace, not the largest change first (the distance keeps falling to its end)', async () => {
    // A dark shape beside a pale field three times its size: the pass must not spend its first half on
    // the dark shape and leave only pale touches for its second (largest change first: ~90% in the first half).
    const page = analyse(
      (await fromSvg(
        `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="96"><rect width="160" height="96" fill="#fff"/><rect x="6" y="8" width="40" height="80" fill="#1c2340"/><rect x="56" y="8" width="98" height="80" fill="#e4e0f4"/></svg>`,
      )).image,
    );
    const { pw, ph } = page;
    const marks = prepareFinalPass(page, flowField(page.lum, pw, ph), noCheck).propose(40, new Rng(5));
    const change = (i: number): number => 765 - page.img.r[i]! - page.img.g[i]! - page.img.b[i]!;
    const shown = new Float32Array(pw * ph);
    const removed: number[] = [];
    for (const { stamp: s } of marks) {
      let gain = 0;
      for (let y = 0; y < s.height; y++) {
        for (let x = 0; x < s.width; x++) {
          const px = x + s.x;
          const py = y + s.y;
          if (px < 0 || py < 0 || px >= pw || py >= ph) continue;
          const i = py * pw + px;
          const a = s.alpha[y * s.width + x]! / 255;
          if (a > shown[i]!) {
            gain += (a - shown[i]!) * change(i);
            shown[i] = a;
          }
        }
      }
      removed.push(gain);
    }
    const total = removed.reduce((acc, v) => acc + v, 0);
    const firstHalf = removed.slice(0, Math.floor(removed.length / 2)).reduce((acc, v) => acc + v, 0);
    assert.ok(firstHalf < total * 0.8, `the first half of the pass does ${((100 * firstHalf) / total).toFixed(0)}% of its change`);
  });

  it('lay-in, block-in and refinement: the canvas toned all over, then masses, then smaller strokes', () => {
    const { pw, ph } = painterly;
    const flow = flowField(painterly.lum, pw, ph);
    const start: [number, number] = [pw / 2, ph / 3];
    const hold = valueHold(1);
    const layIn = new LayIn(painterly, hold, noCheck);
    const layMarks = layIn.propose(26, new Rng(5));
    assert.equal(layMarks.length, 26);
    // No paper is left once the canvas is toned: every plan pixel fully covered.
    assert.ok(coverage(layMarks, pw, ph).every((v) => v === 255), 'the lay-in leaves paper showing');
    const block = new BlockIn(painterly, hold, [layIn], flow, start, noCheck);
    const blockMarks = block.propose(180, new Rng(6));
    assert.equal(blockMarks.length, 180);
    let covered = 0;
    for (const c of block.coverage) if (c >= 0.66) covered++;
    assert.ok(covered / (pw * ph) > 0.9, `block-in covers ${((100 * covered) / (pw * ph)).toFixed(1)}% of the canvas`);
    const refine = new Refinement(painterly, hold, [layIn, block], block.radius, flow, start, noCheck);
    const refineMarks = refine.propose(120, new Rng(7));
    assert.ok(refineMarks.length > 60 && refineMarks.length <= 120, `${refineMarks.length} refinement strokes`);
    const area = (ms: readonly Mark[]): number => ms.reduce((acc, m) => acc + m.stamp.alpha.filter((v) => v > 128).length, 0) / ms.length;
    assert.ok(area(blockMarks) < area(layMarks) * 0.5, `block-in strokes (${area(blockMarks)} px) are not smaller than the lay-in's (${area(layMarks)} px)`);
    // Refinement broadens a little in smooth fields (this image is mostly smooth), still under the block-in's brush.
    assert.ok(area(refineMarks) < area(blockMarks) * 0.75, `refinement strokes (${area(refineMarks)} px) are not smaller than block-in ones (${area(blockMarks)} px)`);
  });

  it('habits: episodes come in pairs, the transform settles, the curve ends at identity', () => {
    const rng = new Rng(8);
    const ops = (): Operation[] => Array.from({ length: 200 }, () => ({ kind: 'reveal', phase: 'sketch', layer: 0, stamp: { x: 0, y: 0, width: 1, height: 1, alpha: new Uint8Array([255]) }, strength: 1, tool: 'pencil' }) as const);
    const flips = ops();
    flipEpisode(flips, 'rendering', rng, [0.4, 0.5], [10, 12]);
    const on = flips.findIndex((o) => o.kind === 'flip' && o.flipped);
    const off = flips.findIndex((o) => o.kind === 'flip' && !o.flipped);
    assert.ok(on >= 80 && off - on >= 11 && off - on <= 13, `flip from ${on} to ${off}`);
    const hides = ops();
    hideEpisode(hides, 'flats', 3, rng, [0.2, 0.3], [40, 60], 20);
    const hidden = hides.findIndex((o) => o.kind === 'visibility' && !o.visible);
    const shown = hides.findIndex((o) => o.kind === 'visibility' && o.visible);
    assert.ok(shown - hidden === 21, `hidden for ${shown - hidden - 1} operations, capped at 20`);
    // Capped under a blink, with the next phase's operations given: hidden on into them for the whole length.
    const few = ops().slice(0, 30);
    const next = ops();
    placeHide(few, 'flats', 3, { fraction: 0.5, length: 45 }, 12, { ops: next, phase: 'rendering' });
    const gone = few.findIndex((o) => o.kind === 'visibility' && !o.visible);
    const back = next.findIndex((o) => o.kind === 'visibility' && o.visible);
    assert.equal(gone, 15);
    assert.equal(few.length - gone - 1 + back, 45, 'hidden for its whole length across both phases');
    assert.equal(next[back]!.phase, 'rendering');
    assert.ok(45 >= SHORTEST_HIDE);
    // Long enough within the phase: it stays there.
    const within = ops();
    const after = ops();
    placeHide(within, 'flats', 3, { fraction: 0.2, length: 45 }, 80, { ops: after, phase: 'rendering' });
    assert.equal(after.length, 200);
    assert.equal(within.findIndex((o) => o.kind === 'visibility' && o.visible) - within.findIndex((o) => o.kind === 'visibility' && !o.visible), 46);
    const moves = ops();
    liftAndMove(moves, 0, outlined, rng);
    const moved = moves.findIndex((o) => o.kind === 'transform' && o.region !== null);
    const settled = moves.findIndex((o) => o.kind === 'transform' && o.region === null);
    // The part is drawn off-place for a while (most of the layer's strokes), then moved into place once.
    assert.ok(moved >= 10 && moved <= 41 && settled - moved >= 60, `moved at ${moved}, settled at ${settled}`);
    const settle = curveSettle({ contrast: 0.9, saturation: 0.8, lift: 0.05, warmth: 0.1 }, 4);
    assert.equal(settle.length, 4);
    const last = settle[3]!;
    assert.ok(last.kind === 'curve' && last.curve === IDENTITY_CURVE);
  });
});
