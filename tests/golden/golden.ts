/**
 * Golden-fixture discovery: every case of `$GOLDEN_DIR/manifest.json` (default ../shared/golden next
 * to the repository) is handled by exactly one owner in CASE_OWNERS; a case this table does not know
 * fails loudly instead of being skipped.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SafetensorsFile } from '../../models/src/safetensors.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const GOLDEN_DIR = resolve(process.env.GOLDEN_DIR ?? join(repoRoot, '..', 'shared', 'golden'));

const ToleranceSchema = z.union([
  z.object({ exact: z.literal(true) }).loose(),
  z
    .object({
      atol: z.number().nonnegative(),
      rtol: z.number().nonnegative(),
      observed: z.record(z.string(), z.object({ recommended_atol: z.number().nonnegative() }).loose()).default({}),
      teacher_forced_one_step: z
        .object({ observed: z.record(z.string(), z.object({ recommended_atol: z.number().nonnegative() }).loose()) })
        .loose()
        .optional(),
    })
    .loose(),
]);

const TensorSpecSchema = z.object({ shape: z.array(z.number().int().min(0)), dtype: z.string() });

const CaseSchema = z
  .object({
    file: z.string(),
    components: z.array(z.string()),
    inputs: z.record(z.string(), TensorSpecSchema),
    outputs: z.record(z.string(), TensorSpecSchema),
    tolerance: ToleranceSchema,
  })
  .loose();
export type GoldenCase = z.infer<typeof CaseSchema> & Record<string, unknown>;

const ManifestSchema = z
  .object({
    format_version: z.literal(1),
    snapshots: z.record(z.string(), z.record(z.string(), z.string())),
    components: z.record(z.string(), z.object({ folder: z.string() }).loose()),
    cases: z.record(z.string(), CaseSchema),
    real_model_keys: z.record(z.string(), z.object({ file: z.string() }).loose()),
  })
  .loose();
export type GoldenManifest = z.infer<typeof ManifestSchema>;

export function loadManifest(): GoldenManifest {
  return ManifestSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, 'manifest.json'), 'utf8')));
}

/**
 * Who checks each case kind. `single-frame` cases run in tests/golden/*.test.ts; `multi-frame` cases
 * belong to the multi-frame pipeline (issue 7) and are listed here so that they are known, not unknown.
 */
export const CASE_OWNERS: Readonly<Record<string, 'single-frame' | 'multi-frame'>> = {
  tokenizer: 'single-frame',
  clip_text_sd15: 'single-frame',
  sd_vae: 'single-frame',
  sf_unet: 'single-frame',
  sf_sampler: 'single-frame',
  preprocess: 'single-frame',
  clip_text_sd21: 'multi-frame',
  mf_unet: 'multi-frame',
  mf_vae: 'multi-frame',
  mf_clip_vision: 'multi-frame',
  mf_projection: 'multi-frame',
  mf_sampler: 'multi-frame',
};

/** Case names whose kind is exactly `kind` or starts with `kind_` (a regenerated set may add variants). */
export function casesOf(manifest: GoldenManifest, kind: string): [string, GoldenCase][] {
  return Object.entries(manifest.cases).filter(([name]) => caseKind(name) === kind) as [string, GoldenCase][];
}

export function caseKind(name: string): string | undefined {
  if (name in CASE_OWNERS) return name;
  return Object.keys(CASE_OWNERS)
    .sort((a, b) => b.length - a.length)
    .find((kind) => name.startsWith(`${kind}_`));
}

export function componentFolder(manifest: GoldenManifest, component: string): string {
  const entry = manifest.components[component];
  assert.ok(entry, `component ${component} is not in the golden manifest`);
  return join(GOLDEN_DIR, entry.folder);
}

export function openCase(goldenCase: GoldenCase): SafetensorsFile {
  const path = join(GOLDEN_DIR, goldenCase.file);
  return SafetensorsFile.fromBuffer(path, readFileSync(path));
}

export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/** The tolerance of one output: its recommended atol when the manifest has one, else the case-wide atol. */
export function toleranceFor(goldenCase: GoldenCase, output: string): Tolerance {
  const t = goldenCase.tolerance;
  if ('exact' in t) return { atol: 0, rtol: 0 };
  const observed = (t.observed as Record<string, { recommended_atol: number }>)[output];
  return { atol: observed?.recommended_atol ?? t.atol, rtol: t.rtol };
}

/** The tolerance of the teacher-forced one-step check of a sampler output. */
export function teacherForcedTolerance(goldenCase: GoldenCase, output: string): Tolerance | undefined {
  const t = goldenCase.tolerance;
  if ('exact' in t) return undefined;
  const tf = t.teacher_forced_one_step as { observed: Record<string, { recommended_atol: number }> } | undefined;
  const atol = tf?.observed[output]?.recommended_atol;
  return atol === undefined ? undefined : { atol, rtol: t.rtol };
}

/** Asserts |got - want| <= atol + rtol*|want| elementwise, reporting the worst element. */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tolerance: Tolerance,
  label: string,
): void {
  assert.equal(got.length, want.length, `${label}: ${got.length} values, expected ${want.length}`);
  let worst = -Infinity;
  let worstIndex = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i] ?? NaN;
    const w = want[i] ?? NaN;
    const excess = Math.abs(g - w) - (tolerance.atol + tolerance.rtol * Math.abs(w));
    if (!(excess <= worst) || Number.isNaN(excess)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      worstIndex = i;
    }
  }
  assert.ok(
    worst <= 0,
    `${label}: element ${worstIndex} is ${got[worstIndex]}, expected ${want[worstIndex]} (atol ${tolerance.atol}, rtol ${tolerance.rtol})`,
  );
}

export function shapeOf(goldenCase: GoldenCase, tensor: string): number[] {
  const spec = goldenCase.inputs[tensor] ?? goldenCase.outputs[tensor];
  assert.ok(spec, `tensor ${tensor} is not listed in the case`);
  return spec.shape;
}
