/** Shared by the float16 graph tests: run a graph written in float16 on the CPU, compare with float32 references. */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { BuiltGraph } from '../../models/src/graph/clip-text.js';
import { OrtRuntime, outputFloat32 } from '../../models/src/runtime/onnxruntime.js';
import type { TensorData } from '../../models/src/runtime/onnxruntime.js';

/** Starts one onnxruntime worker for the calling test file and returns a runner of float16 graphs. */
export function float16Runner(): (built: BuiltGraph, folder: string, feeds: Record<string, TensorData>, output: string) => Promise<Float32Array> {
  let runtime: OrtRuntime;
  before(() => {
    runtime = OrtRuntime.start();
  });
  after(() => runtime.dispose());
  return async (built, folder, feeds, output) => {
    built.weights.assertComplete();
    const session = await runtime.createSession({ model: built.builder.toBytes('f16'), externalDataFolder: folder, device: 'cpu' });
    try {
      return outputFloat32(await session.run(feeds), output);
    } finally {
      await session.release();
    }
  };
}

/** float16 keeps about 3 significant digits; the graphs must stay within 2% of the output's scale. */
export function assertFloat16Near(got: Float32Array, want: Float32Array, label: string): void {
  assert.equal(got.length, want.length, label);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const worst = want.reduce((m, v, i) => Math.max(m, Math.abs(v - (got[i] ?? NaN))), 0);
  assert.ok(worst <= 0.02 * scale, `${label}: float16 differs by ${worst} (scale ${scale})`);
}
