import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { ClipVisionEncoder } from '../../models/src/multi-frame/components.js';
import { ClipTextEncoder } from '../../models/src/components.js';
import { ClipTokenizer } from '../../models/src/tokenizer/clip.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();
let runtime: OrtRuntime;
before(() => {
  runtime = OrtRuntime.start();
});
after(async () => {
  await runtime.dispose();
});

/** u8 NHWC frames -> [n, 3, h, w] in [-1, 1] (numpy2pytorch, float32). */
function u8FramesToNchw(data: Uint8Array, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n * 3 * h * w);
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < h * w; p++) {
      for (let c = 0; c < 3; c++) out[(t * 3 + c) * h * w + p] = Math.fround(Math.fround(data[(t * h * w + p) * 3 + c]! / 127.5) - 1);
    }
  }
  return out;
}

for (const [name, goldenCase] of casesOf(manifest, 'mf_clip_vision')) {
  test(`${name}: improved CLIP vision on every stored size, the all-zero negative, batch 2 and 1`, async () => {
    const component = goldenCase.components.find((c) => c.startsWith('mf_clip_vision'));
    assert.ok(component);
    const tensors = openCase(goldenCase);
    const encoder = await ClipVisionEncoder.load(runtime, componentFolder(manifest, component), 'cpu');
    try {
      const outputs = Object.keys(goldenCase.outputs).filter((o) => o.startsWith('out_embeds_'));
      assert.ok(outputs.length > 0);
      for (const output of outputs) {
        const zeros = output.startsWith('out_embeds_zeros_');
        const size = output.replace(/^out_embeds_(zeros_)?/, '');
        const [n, h, w] = shapeOf(goldenCase, `in_frames_u8_${size}`) as [number, number, number];
        const frames = zeros ? new Float32Array(n * 3 * h * w) : u8FramesToNchw(tensors.uint8(`in_frames_u8_${size}`), n, h, w);
        const want = tensors.float32(output);
        const tol = toleranceFor(goldenCase, output);
        const got = await encoder.encode(frames, n, h, w);
        assert.equal(got.tokens, shapeOf(goldenCase, output)[2]);
        assertClose(got.data, want, tol, `${output} (batch ${n})`);
        const one = await encoder.encode(frames.subarray(3 * h * w, 6 * h * w), 1, h, w);
        assertClose(one.data, want.subarray(want.length / n, (2 * want.length) / n), tol, `${output} (batch 1)`);
      }
    } finally {
      await encoder.release();
    }
  });
}

for (const [name, goldenCase] of casesOf(manifest, 'clip_text_sd21')) {
  test(`${name}: SD2.1-style CLIP text (gelu) from its own tokenizer, batch ${shapeOf(goldenCase, 'in_ids')[0]} and 1`, async () => {
    const component = goldenCase.components.find((c) => c.startsWith('clip_text'));
    const tokenizerComponent = goldenCase.components.find((c) => c.startsWith('tokenizer'));
    assert.ok(component && tokenizerComponent);
    const tensors = openCase(goldenCase);
    const [rows, width] = shapeOf(goldenCase, 'in_ids') as [number, number];
    const ids = Array.from(tensors.int64('in_ids'), Number);
    const idRows = Array.from({ length: rows }, (_, i) => ids.slice(i * width, (i + 1) * width));
    // The case's ids are what the snapshot tokenizer makes of its prompts ('!' pads to id 0).
    const prompts = goldenCase.prompts as string[] | undefined;
    if (prompts !== undefined) {
      const tokenizer = ClipTokenizer.fromFolder(componentFolder(manifest, tokenizerComponent));
      prompts.forEach((prompt, i) => assert.deepEqual(tokenizer.encode(prompt), idRows[i], `prompt ${i}`));
    }
    const encoder = await ClipTextEncoder.load(runtime, componentFolder(manifest, component), 'cpu');
    try {
      const want = tensors.float32('out_last_hidden_state');
      const tol = toleranceFor(goldenCase, 'out_last_hidden_state');
      assertClose(await encoder.encode(idRows), want, tol, `${name} batch ${rows}`);
      assertClose(await encoder.encode(idRows.slice(0, 1)), want.subarray(0, want.length / rows), tol, `${name} batch 1`);
    } finally {
      await encoder.release();
    }
  });
}
