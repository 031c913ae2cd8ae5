/**
 * The models as data: which snapshot folders and files the single-frame backend needs, what each
 * component is, where users get it, and where the engine looks for it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type ComponentKind = 'clip-tokenizer' | 'clip-text' | 'sd-vae' | 'sf-unet';

export interface ComponentSpec {
  /** Subfolder of the snapshot (Hugging Face layout). */
  readonly folder: string;
  readonly kind: ComponentKind;
  readonly files: readonly string[];
  /** Full-size key list in ../shared/golden/keys/ describing this component (for tests and docs). */
  readonly keyList: string;
}

export interface SnapshotSpec {
  readonly repo: string;
  /** Folder under the models directory. */
  readonly folder: string;
  readonly components: readonly ComponentSpec[];
}

export interface TaggerSpec {
  readonly repo: string;
  readonly folder: string;
  readonly onnx: string;
  readonly csv: string;
  /** Side of the square NHWC input of wd-v1-4-moat-tagger-v2. */
  readonly inputSize: number;
}

export const SINGLE_FRAME_SNAPSHOT: SnapshotSpec = {
  repo: 'lllyasviel/paints_undo_single_frame',
  folder: 'paints_undo_single_frame',
  components: [
    { folder: 'tokenizer', kind: 'clip-tokenizer', files: ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'], keyList: '' },
    { folder: 'text_encoder', kind: 'clip-text', files: ['config.json', 'model.safetensors'], keyList: 'clip_text_sd15' },
    { folder: 'vae', kind: 'sd-vae', files: ['config.json', 'diffusion_pytorch_model.safetensors'], keyList: 'sd_vae' },
    { folder: 'unet', kind: 'sf-unet', files: ['config.json', 'diffusion_pytorch_model.safetensors'], keyList: 'sf_unet' },
  ],
};

export const WD14_TAGGER: TaggerSpec = {
  repo: 'lllyasviel/misc',
  folder: 'wd14',
  onnx: 'wd-v1-4-moat-tagger-v2.onnx',
  csv: 'wd-v1-4-moat-tagger-v2.csv',
  inputSize: 448,
};

/** The commands a user runs on a connected machine (never run by the engine). */
export function downloadCommands(modelsDir: string): string[] {
  const dir = (sub: string): string => JSON.stringify(join(modelsDir, sub));
  return [
    'pip install -U "huggingface_hub[cli]"',
    `huggingface-cli download ${SINGLE_FRAME_SNAPSHOT.repo} --local-dir ${dir(SINGLE_FRAME_SNAPSHOT.folder)}`,
    `huggingface-cli download ${WD14_TAGGER.repo} ${WD14_TAGGER.onnx} ${WD14_TAGGER.csv} --local-dir ${dir(WD14_TAGGER.folder)}`,
  ];
}

export const MODELS_ENV = 'PAINTS_UNDO_MODELS';

/** The per-user data folder: XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'paints-undo', 'models');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'paints-undo', 'models');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'paints-undo', 'models');
}

export interface ModelsDirChoice {
  readonly dir: string;
  readonly source: 'flag' | 'env' | 'default';
}

/** A flag wins over PAINTS_UNDO_MODELS, which wins over the per-user default. */
export function resolveModelsDir(flag?: string, env: NodeJS.ProcessEnv = process.env): ModelsDirChoice {
  if (flag !== undefined && flag !== '') return { dir: resolve(flag), source: 'flag' };
  const fromEnv = env[MODELS_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: resolve(fromEnv), source: 'env' };
  return { dir: defaultModelsDir(env), source: 'default' };
}

/**
 * The snapshot folder inside a models directory. Accepted layouts: `<dir>/paints_undo_single_frame/`,
 * `<dir>` itself being the snapshot, and the Hugging Face cache
 * (`<dir>/models--lllyasviel--paints_undo_single_frame/snapshots/<revision>/`, newest revision).
 */
export function snapshotFolder(modelsDir: string, spec: SnapshotSpec = SINGLE_FRAME_SNAPSHOT): string {
  const direct = join(modelsDir, spec.folder);
  if (existsSync(direct)) return direct;
  if (spec.components.every((c) => existsSync(join(modelsDir, c.folder)))) return modelsDir;
  return cachedSnapshot(modelsDir, spec.repo) ?? direct;
}

/**
 * The snapshot of `repo` in a Hugging Face cache inside `modelsDir` (`models--owner--name/`): the revision
 * `refs/main` names, as the hub's own tools resolve it, else the newest snapshot folder. Entries that are
 * not folders (a dangling link, a stray file) are passed over; undefined when there is none.
 */
export function cachedSnapshot(modelsDir: string, repo: string): string | undefined {
  const root = join(modelsDir, `models--${repo.replace('/', '--')}`);
  const snapshots = join(root, 'snapshots');
  const folderTime = (path: string): number | undefined => {
    try {
      const info = statSync(path);
      return info.isDirectory() ? info.mtimeMs : undefined;
    } catch {
      return undefined;
    }
  };
  let main: string | undefined;
  try {
    main = readFileSync(join(root, 'refs', 'main'), 'utf8').trim();
  } catch {
    main = undefined;
  }
  if (main && /^[0-9A-Za-z._-]+$/.test(main) && folderTime(join(snapshots, main)) !== undefined) return join(snapshots, main);
  let names: string[];
  try {
    names = readdirSync(snapshots);
  } catch {
    return undefined;
  }
  const newest = names
    .map((name) => ({ name, time: folderTime(join(snapshots, name)) }))
    .filter((r): r is { name: string; time: number } => r.time !== undefined)
    .sort((a, b) => b.time - a.time)[0];
  return newest === undefined ? undefined : join(snapshots, newest.name);
}

export function taggerFolder(modelsDir: string, spec: TaggerSpec = WD14_TAGGER): string {
  const direct = join(modelsDir, spec.folder);
  return existsSync(join(direct, spec.onnx)) || !existsSync(join(modelsDir, spec.onnx)) ? direct : modelsDir;
}
