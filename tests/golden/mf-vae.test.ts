import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { VideoVae } from '../../models/src/multi-frame/components.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();
let runtime: OrtRuntime;
before(() => {
  runtime = OrtRuntime.start();
});
after(async () => {
  await runtime.dispose();
});

type Dims5 = [number, number, number, number, number];

for (const [name, goldenCase] of casesOf(manifest, 'mf_vae')) {
  test(`${name}: encode_latents with hidden states, decode_latents with ref context (post_quant_conv skipped)`, async () => {
    const component = goldenCase.components.find((c) => c.startsWith('mf_vae'));
    assert.ok(component);
    const tensors = openCase(goldenCase);
    const vae = await VideoVae.load(runtime, componentFolder(manifest, component), 'cpu');
    try {
      const encoded = await vae.encode({ data: tensors.float32('in_videos'), dims: shapeOf(goldenCase, 'in_videos') as Dims5 });
      assert.deepEqual(encoded.latents.dims, shapeOf(goldenCase, 'out_z'));
      assertClose(encoded.latents.data, tensors.float32('out_z'), toleranceFor(goldenCase, 'out_z'), 'out_z');
      const hiddenNames = Object.keys(goldenCase.outputs).filter((o) => o.startsWith('out_hidden_')).sort();
      assert.equal(encoded.hidden.length, hiddenNames.length);
      encoded.hidden.forEach((h, i) => {
        const output = `out_hidden_${i}`;
        assert.deepEqual(h.dims, shapeOf(goldenCase, output));
        assertClose(h.data, tensors.float32(output), toleranceFor(goldenCase, output), output);
      });
      // Decode from the stored hidden states, as the case did.
      const context = hiddenNames.map((o) => ({ data: tensors.float32(o), dims: shapeOf(goldenCase, o) as Dims5 }));
      const pixels = await vae.decode({ data: tensors.float32('in_latents'), dims: shapeOf(goldenCase, 'in_latents') as Dims5 }, context);
      assert.deepEqual(pixels.dims, shapeOf(goldenCase, 'out_pixels'));
      assertClose(pixels.data, tensors.float32('out_pixels'), toleranceFor(goldenCase, 'out_pixels'), 'out_pixels');
    } finally {
      await vae.release();
    }
  });
}
