import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { ImageProjection } from '../../models/src/multi-frame/components.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, toleranceFor } from './golden.js';

const manifest = loadManifest();

for (const [name, goldenCase] of casesOf(manifest, 'mf_projection')) {
  test(`${name}: Resampler, batch > 1 and batch 1`, async () => {
    const runtime = OrtRuntime.start();
    try {
      const tensors = openCase(goldenCase);
      const component = goldenCase.components.find((c) => c.startsWith('mf_projection'));
      assert.ok(component);
      const projection = await ImageProjection.load(runtime, componentFolder(manifest, component), 'cpu');
      const dims = shapeOf(goldenCase, 'in_x') as [number, number, number, number];
      const x = tensors.float32('in_x');
      const want = tensors.float32('out_y');
      const tol = toleranceFor(goldenCase, 'out_y');
      assertClose(await projection.run(x, dims), want, tol, 'out_y (batch)');
      const per = x.length / dims[0];
      const wantPer = want.length / dims[0];
      assertClose(await projection.run(x.subarray(per), [1, dims[1], dims[2], dims[3]]), want.subarray(wantPer), tol, 'out_y (batch 1)');
      await projection.release();
    } finally {
      await runtime.dispose();
    }
  });
}
