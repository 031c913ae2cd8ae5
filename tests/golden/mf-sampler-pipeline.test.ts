/**
 * The whole official process_video_inner() on the tiny models (case mf_sampler): every intermediate
 * through the loader that reads real snapshots, the UNet teacher-forced on each stored step, and the
 * free-running chain with the recorded noise replayed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OrtRuntime } from '../../models/src/runtime/onnxruntime.js';
import { guidedVelocity, interpolateKeyframes, loadMultiFrameModels, releaseMultiFrameModels } from '../../models/src/multi-frame/pipeline.js';
import type { MultiFrameFolder, MultiFrameModels } from '../../models/src/multi-frame/pipeline.js';
import type { RgbImage } from '../../engine/src/core/image.js';
import { assertClose, casesOf, componentFolder, loadManifest, openCase, shapeOf, teacherForcedTolerance, toleranceFor } from './golden.js';

const manifest = loadManifest();
const SNAPSHOT = 'lllyasviel/paints_undo_multi_frame';
let runtime: OrtRuntime;
let models: MultiFrameModels | undefined;
before(() => {
  runtime = OrtRuntime.start();
});
after(async () => {
  if (models !== undefined) await releaseMultiFrameModels(models);
  await runtime.dispose();
});

function image(data: Uint8Array, shape: number[]): RgbImage {
  const [height, width] = shape as [number, number];
  return { width, height, channels: 3, data };
}

for (const [name, goldenCase] of casesOf(manifest, 'mf_sampler')) {
  test(`${name}: process_video_inner end to end (conditions, teacher-forced UNet steps, chain, decode)`, async () => {
    const snapshot = manifest.snapshots[SNAPSHOT];
    assert.ok(snapshot, `the golden manifest has no snapshot ${SNAPSHOT}`);
    models = await loadMultiFrameModels(runtime, (folder: MultiFrameFolder) => {
      const component = snapshot[folder];
      assert.ok(component, `snapshot ${SNAPSHOT} has no ${folder}`);
      return componentFolder(manifest, component);
    }, 'cpu');
    const t = openCase(goldenCase);
    const steps = shapeOf(goldenCase, 'out_step_t')[0] ?? 0;
    const [bucketH, bucketW] = shapeOf(goldenCase, 'out_image_1') as [number, number];
    const draws = ['in_noise_init', ...Array.from({ length: steps }, (_, i) => `in_noise_step${i}`)].map((n) => t.float32(n));
    let draw = 0;
    const result = await interpolateKeyframes(
      models,
      image(t.uint8('in_image_1'), shapeOf(goldenCase, 'in_image_1')),
      image(t.uint8('in_image_2'), shapeOf(goldenCase, 'in_image_2')),
      {
        prompt: String(goldenCase.prompt),
        negativePrompt: String(goldenCase.negative_prompt),
        steps,
        cfg: 7.5,
        fs: 3,
        // The case monkeypatches find_best_bucket to the tiny bucket.
        bucket: [bucketH, bucketW],
        noise: (size) => {
          const next = draws[draw++];
          assert.ok(next !== undefined && next.length === size, `noise draw ${draw - 1} of ${size} values`);
          return next;
        },
      },
    );
    assert.equal(draw, steps + 1, 'one x_T draw and one draw per step');
    assert.deepEqual(result.image1.data, t.uint8('out_image_1'));
    assert.deepEqual(result.image2.data, t.uint8('out_image_2'));
    const close = (got: Float32Array, output: string): void => assertClose(got, t.float32(output), toleranceFor(goldenCase, output), output);
    close(result.positiveText, 'out_positive_text_cond');
    close(result.negativeText, 'out_negative_text_cond');
    close(result.positiveImage, 'out_positive_image_cond');
    close(result.negativeImage, 'out_negative_image_cond');
    close(result.inputLatents.data, 'out_input_frame_latents');
    close(result.concatCond.data, 'out_concat_cond');

    // Teacher forced: one guided evaluation at each stored x_t.
    const stepX = t.float32('out_step_x');
    const stepV = t.float32('out_step_model_output');
    const stepT = Array.from(t.int64('out_step_t'), Number);
    const size = stepX.length / steps;
    const tight = teacherForcedTolerance(goldenCase, 'out_step_model_output');
    assert.ok(tight, 'the case documents a teacher-forced tolerance');
    for (let i = 0; i < steps; i++) {
      const v = await guidedVelocity(models.unet, result.conditions, stepX.subarray(i * size, (i + 1) * size), stepT[i]!);
      assertClose(v, stepV.subarray(i * size, (i + 1) * size), tight, `model output at step ${i} (t=${stepT[i]})`);
    }

    // Free running, with the case-wide tolerances for the drifting chain.
    close(result.latents.data, 'out_latents');
    assert.deepEqual(result.video.dims, shapeOf(goldenCase, 'out_video'));
    close(result.video.data, 'out_video');
    assert.equal(result.frames.length, shapeOf(goldenCase, 'out_video')[2]);
  });
}
