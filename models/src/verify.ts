/**
 * `verify(dir)`: which model files are present, missing or wrong (names, sizes, tensor names and shapes
 * against each component's config.json), using the same graph builders that load the models, and the
 * download commands to run on a connected machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PaintsUndoError } from '../../engine/src/core/errors.js';
import { readConfig } from './components.js';
import { ClipTextConfigSchema, buildClipText } from './graph/clip-text.js';
import { UnetConfigSchema, buildUnet } from './graph/unet.js';
import { VaeConfigSchema, buildVaeEncoder } from './graph/vae.js';
import { formatProblem, sourceFromHeader, sourceFromKeyList } from './graph/weights.js';
import type { WeightProblem, WeightSource } from './graph/weights.js';
import { SINGLE_FRAME_SNAPSHOT, WD14_TAGGER, downloadCommands, snapshotFolder, taggerFolder } from './manifest.js';
import type { ComponentKind, ComponentSpec } from './manifest.js';
import { readSafetensorsHeader } from './safetensors.js';
import { verifyMultiFrame } from './multi-frame/manifest.js';
import type { MultiFrameVerifyReport } from './multi-frame/manifest.js';
import { parseTagCsv } from './tagger/wd14.js';
import { ClipTokenizer } from './tokenizer/clip.js';
import { componentReport, errorMessage, fileReport, worstStatus, type ComponentReport, type FileReport } from './verify-report.js';

export interface VerifyReport {
  readonly modelsDir: string;
  readonly ok: boolean;
  readonly snapshot: { readonly repo: string; readonly folder: string; readonly components: readonly ComponentReport[] };
  readonly tagger: ComponentReport;
  readonly downloadCommands: readonly string[];
  /** The multi-frame model (backend "paintsundo"); optional for the single-frame backend, so not part of `ok`. */
  readonly multiFrame?: MultiFrameVerifyReport;
}

/** Runs a component's graph builder against a weight source and returns every mismatch. */
export function checkWeights(kind: Exclude<ComponentKind, 'clip-tokenizer'>, config: unknown, source: WeightSource): WeightProblem[] {
  switch (kind) {
    case 'clip-text':
      return buildClipText(ClipTextConfigSchema.parse(config), source, 'float32').weights.allProblems();
    case 'sd-vae':
      return buildVaeEncoder(VaeConfigSchema.parse(config), source, 'float32').weights.allProblems();
    case 'sf-unet':
      return buildUnet(UnetConfigSchema.parse(config), source, 'float32').weights.allProblems();
  }
}

/** Checks a full-size key list ({name: shape}) against a config, e.g. ../shared/golden/keys/*.json. */
export function checkKeyList(kind: Exclude<ComponentKind, 'clip-tokenizer'>, config: unknown, keys: Record<string, readonly number[]>): WeightProblem[] {
  return checkWeights(kind, config, sourceFromKeyList(keys, kind));
}

function verifyComponent(snapshot: string, spec: ComponentSpec): ComponentReport {
  const folder = join(snapshot, spec.folder);
  return componentReport(spec.folder, folder, spec.files, (wrong) => {
    if (spec.kind === 'clip-tokenizer') {
      try {
        ClipTokenizer.fromFolder(folder);
      } catch (error) {
        // The file the tokenizer could not read, when it says which.
        const file = error instanceof PaintsUndoError && typeof error.details?.['file'] === 'string' ? error.details['file'] : 'tokenizer_config.json';
        wrong(file, [errorMessage(error)]);
      }
      return;
    }
    const weightsFile = spec.files.find((f) => f.endsWith('.safetensors')) ?? '';
    let config: unknown;
    try {
      config = readConfig(folder, z.unknown());
    } catch (error) {
      wrong('config.json', [errorMessage(error)]);
    }
    let source: WeightSource | undefined;
    try {
      source = sourceFromHeader(readSafetensorsHeader(join(folder, weightsFile)), `${spec.folder}/${weightsFile}`);
    } catch (error) {
      wrong(weightsFile, [errorMessage(error)]);
    }
    if (config !== undefined && source !== undefined) {
      try {
        wrong(weightsFile, checkWeights(spec.kind, config, source).map(formatProblem));
      } catch (error) {
        wrong('config.json', [errorMessage(error)]);
      }
    }
  });
}

function verifyTagger(modelsDir: string): ComponentReport {
  const folder = taggerFolder(modelsDir);
  // The tag list is checked even when the model file is missing: each file is useful to fix on its own.
  const files = [WD14_TAGGER.onnx, WD14_TAGGER.csv].map((file): FileReport => {
    const report = fileReport(folder, file);
    if (!file.endsWith('.csv') || report.status !== 'present') return report;
    let problem: string | undefined;
    try {
      if (parseTagCsv(readFileSync(join(folder, file), 'utf8')).length === 0) problem = 'the CSV has no tag rows';
    } catch (error) {
      problem = errorMessage(error);
    }
    return problem === undefined ? report : { ...report, status: 'wrong', problems: [problem] };
  });
  return { name: 'wd14 tagger (optional: writes the prompt)', folder, status: worstStatus(files), files };
}

export function verify(modelsDir: string): VerifyReport {
  const snapshot = snapshotFolder(modelsDir);
  const components = SINGLE_FRAME_SNAPSHOT.components.map((c) => verifyComponent(snapshot, c));
  const tagger = verifyTagger(modelsDir);
  return {
    modelsDir,
    ok: components.every((c) => c.status === 'present'),
    snapshot: { repo: SINGLE_FRAME_SNAPSHOT.repo, folder: snapshot, components },
    tagger,
    downloadCommands: downloadCommands(modelsDir),
    multiFrame: verifyMultiFrame(modelsDir),
  };
}

/** The report as text lines for the CLI. */
export function formatVerifyReport(report: VerifyReport): string[] {
  const lines = [`Models folder: ${report.modelsDir}`, `${report.snapshot.repo} (${report.snapshot.folder}):`];
  const show = (c: ComponentReport): void => {
    lines.push(`  ${c.name}: ${c.status}`);
    for (const f of c.files) {
      lines.push(`    ${f.status.padEnd(7)} ${f.file}${f.bytes === undefined ? '' : ` (${f.bytes} bytes)`}`);
      for (const p of f.problems.slice(0, 20)) lines.push(`            ${p}`);
      if (f.problems.length > 20) lines.push(`            ... and ${f.problems.length - 20} more`);
    }
  };
  report.snapshot.components.forEach(show);
  show(report.tagger);
  if (report.multiFrame !== undefined) {
    lines.push(`${report.multiFrame.repo} (${report.multiFrame.folder}), needed by --backend paintsundo:`);
    report.multiFrame.components.forEach(show);
    lines.push(
      report.multiFrame.ok
        ? 'The multi-frame model is complete.'
        : `The multi-frame model is incomplete; on a connected machine run: ${report.multiFrame.downloadCommand}`,
    );
  }
  if (report.ok) {
    lines.push('The single-frame model is complete.');
  } else {
    lines.push('', 'The single-frame model is incomplete. On a machine with internet access, run:');
    for (const command of report.downloadCommands) lines.push(`  ${command}`);
    lines.push('then copy the folder here (or point PAINTS_UNDO_MODELS / --models at it).');
  }
  return lines;
}
