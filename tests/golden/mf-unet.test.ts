import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { Unet3d } from '../../models/src/multi-frame/components.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();
let runtime: OrtRuntime;
before(() => {
  runtime = OrtRuntime.start();
});
after(async () => {
  await runtime.dispose();
});

for (const [name, goldenCase] of casesOf(manifest, 'mf_unet')) {
  test(`${name}: UNet3D forward (concat cond, text + image context, fs), batch ${shapeOf(goldenCase, 'in_x')[0]} and 1`, async () => {
    const component = goldenCase.components.find((c) => c.startsWith('mf_unet'));
    assert.ok(component);
    const tensors = openCase(goldenCase);
    const unet = await Unet3d.load(runtime, componentFolder(manifest, component), 'cpu');
    try {
      const dims = shapeOf(goldenCase, 'in_x') as [number, number, number, number, number];
      const [b] = dims;
      const [, textTokens] = shapeOf(goldenCase, 'in_context_text') as [number, number, number];
      const [, , imageTokens] = shapeOf(goldenCase, 'in_context_img') as [number, number, number, number];
      const inputs = {
        x: { data: tensors.float32('in_x'), dims },
        timesteps: Array.from(tensors.int64('in_timesteps'), Number),
        text: tensors.float32('in_context_text'),
        textTokens,
        image: tensors.float32('in_context_img'),
        imageTokens,
        concat: tensors.float32('in_concat_cond'),
        fs: Array.from(tensors.int64('in_fs'), Number),
      };
      const want = tensors.float32('out_y');
      const tol = toleranceFor(goldenCase, 'out_y');
      assertClose(await unet.run(inputs), want, tol, `out_y (batch ${b})`);
      // Batch 1: the last sample alone.
      const last = <T extends Float32Array>(a: T): T => a.subarray((a.length / b) * (b - 1)) as T;
      const one = await unet.run({
        x: { data: last(inputs.x.data), dims: [1, dims[1], dims[2], dims[3], dims[4]] },
        timesteps: inputs.timesteps.slice(-1),
        text: last(inputs.text),
        textTokens,
        image: last(inputs.image),
        imageTokens,
        concat: last(inputs.concat),
        fs: inputs.fs.slice(-1),
      });
      assertClose(one, last(want), tol, 'out_y (batch 1)');
    } finally {
      await unet.release();
    }
  });
}
