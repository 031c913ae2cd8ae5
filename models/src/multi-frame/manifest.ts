/**
 * The multi-frame model as data: the folders and files of lllyasviel/paints_undo_multi_frame, and the
 * weight check of each component through the same graph builders that load it (so a verify report and
 * a load failure always agree).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipTextConfigSchema, buildClipText } from '../graph/clip-text.js';
import type { WeightProblem, WeightSource } from '../graph/weights.js';
import { formatProblem, sourceFromKeyList } from '../graph/weights.js';
import { ClipTokenizer } from '../tokenizer/clip.js';
import { componentReport, errorMessage, type ComponentReport } from '../verify-report.js';
import { ClipVisionConfigSchema, buildClipVision } from './clip-vision.js';
import { parseConfig } from '../components.js';
import { MF_WEIGHTS_FILE, openComponentWeights } from './config.js';
import { cachedSnapshot } from '../manifest.js';
import { ResamplerConfigSchema, buildResampler } from './projection.js';
import { Unet3dConfigSchema, buildUnet3d } from './unet3d.js';
import { VideoVaeConfigSchema, buildVideoVaeDecoder, buildVideoVaeEncoder } from './vae.js';

export type MfComponentKind = 'clip-tokenizer' | 'clip-text' | 'mf-clip-vision' | 'mf-vae' | 'mf-projection' | 'mf-unet';

export interface MfComponentSpec {
  /** Subfolder of the snapshot (Hugging Face layout). */
  readonly folder: string;
  readonly kind: MfComponentKind;
  readonly files: readonly string[];
  /** Full-size key list in ../shared/golden/keys/ describing this component ('' for the tokenizer). */
  readonly keyList: string;
}

export const MULTI_FRAME_SNAPSHOT = {
  repo: 'lllyasviel/paints_undo_multi_frame',
  folder: 'paints_undo_multi_frame',
  components: [
    { folder: 'tokenizer', kind: 'clip-tokenizer', files: ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'], keyList: '' },
    { folder: 'text_encoder', kind: 'clip-text', files: ['config.json', 'model.safetensors'], keyList: 'clip_text_sd21' },
    { folder: 'image_encoder', kind: 'mf-clip-vision', files: ['config.json', 'model.safetensors'], keyList: 'mf_clip_vision' },
    { folder: 'vae', kind: 'mf-vae', files: ['config.json', 'model.safetensors'], keyList: 'mf_vae' },
    { folder: 'image_projection', kind: 'mf-projection', files: ['config.json', 'model.safetensors'], keyList: 'mf_projection' },
    { folder: 'unet', kind: 'mf-unet', files: ['config.json', 'model.safetensors'], keyList: 'mf_unet' },
  ] satisfies readonly MfComponentSpec[],
} as const;

/** The command a user runs on a connected machine to fetch the snapshot (never run by the engine). */
export function multiFrameDownloadCommand(targetDir: string): string {
  return `huggingface-cli download ${MULTI_FRAME_SNAPSHOT.repo} --local-dir ${JSON.stringify(targetDir)}`;
}

/**
 * Every mismatch between a component's config and its weights (missing, wrong shape, unexpected),
 * found by running the component's graph builder against the weight source. Throws MODEL_MISSING when
 * the config itself cannot describe a supported model.
 */
export function checkMultiFrameWeights(kind: Exclude<MfComponentKind, 'clip-tokenizer'>, config: unknown, source: WeightSource, label: string = kind): WeightProblem[] {
  switch (kind) {
    case 'clip-text':
      return buildClipText(parseConfig(config, ClipTextConfigSchema, label), source, 'float32').weights.allProblems();
    case 'mf-clip-vision':
      return buildClipVision(parseConfig(config, ClipVisionConfigSchema, label), source, 'float32').weights.allProblems();
    case 'mf-projection':
      return buildResampler(parseConfig(config, ResamplerConfigSchema, label), source, 'float32').weights.allProblems();
    case 'mf-vae': {
      const parsed = parseConfig(config, VideoVaeConfigSchema, label);
      // The encoder sets the decoder aside and vice versa: together they cover every tensor once.
      const encoder = buildVideoVaeEncoder(parsed, source, 'float32').weights.allProblems();
      const decoder = buildVideoVaeDecoder(parsed, source, 'float32', 16).weights.allProblems();
      const seen = new Set(encoder.map((p) => `${p.kind}:${p.name}`));
      return [...encoder, ...decoder.filter((p) => !seen.has(`${p.kind}:${p.name}`))];
    }
    case 'mf-unet': {
      const parsed = parseConfig(config, Unet3dConfigSchema, label);
      return buildUnet3d(parsed, source, 'float32', parsed.temporal_length).weights.allProblems();
    }
  }
}

/** Checks a full-size key list ({name: shape}), e.g. ../shared/golden/keys/*.json. */
export function checkMultiFrameKeyList(
  kind: Exclude<MfComponentKind, 'clip-tokenizer'>,
  config: unknown,
  keys: Record<string, readonly number[]>,
): WeightProblem[] {
  return checkMultiFrameWeights(kind, config, sourceFromKeyList(keys, kind), kind);
}

/**
 * The multi-frame snapshot inside a models directory: `<dir>/paints_undo_multi_frame/`, `<dir>` itself,
 * or the Hugging Face cache (`models--lllyasviel--paints_undo_multi_frame/`, manifest.ts cachedSnapshot).
 */
export function multiFrameSnapshotFolder(modelsDir: string): string {
  const direct = join(modelsDir, MULTI_FRAME_SNAPSHOT.folder);
  if (existsSync(direct)) return direct;
  if (MULTI_FRAME_SNAPSHOT.components.every((c) => existsSync(join(modelsDir, c.folder)))) return modelsDir;
  return cachedSnapshot(modelsDir, MULTI_FRAME_SNAPSHOT.repo) ?? direct;
}

export interface MultiFrameVerifyReport {
  readonly repo: string;
  readonly folder: string;
  /** Every component present and matching its config. */
  readonly ok: boolean;
  readonly components: readonly ComponentReport[];
  readonly downloadCommand: string;
}

function verifyMfComponent(snapshot: string, spec: MfComponentSpec): ComponentReport {
  const folder = join(snapshot, spec.folder);
  return componentReport(spec.folder, folder, spec.files, (wrong) => {
    if (spec.kind === 'clip-tokenizer') {
      try {
        ClipTokenizer.fromFolder(folder);
      } catch (error) {
        wrong('tokenizer_config.json', [errorMessage(error)]);
      }
      return;
    }
    let config: unknown;
    try {
      config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    } catch (error) {
      wrong('config.json', [errorMessage(error)]);
    }
    if (config === undefined) return;
    try {
      wrong(MF_WEIGHTS_FILE, checkMultiFrameWeights(spec.kind, config, openComponentWeights(folder), `${spec.folder}/config.json`).map(formatProblem));
    } catch (error) {
      // A config the builders cannot describe, or an unreadable safetensors header.
      const file = /safetensors/.test(errorMessage(error)) ? MF_WEIGHTS_FILE : 'config.json';
      wrong(file, [errorMessage(error)]);
    }
  });
}

/** `verify` for lllyasviel/paints_undo_multi_frame: every file present, missing or wrong, with reasons. */
export function verifyMultiFrame(modelsDir: string): MultiFrameVerifyReport {
  const folder = multiFrameSnapshotFolder(modelsDir);
  const components = MULTI_FRAME_SNAPSHOT.components.map((c) => verifyMfComponent(folder, c));
  return {
    repo: MULTI_FRAME_SNAPSHOT.repo,
    folder,
    ok: components.every((c) => c.status === 'present'),
    components,
    downloadCommand: multiFrameDownloadCommand(join(modelsDir, MULTI_FRAME_SNAPSHOT.folder)),
  };
}
