/**
 * The extension's settings (package.json `contributes.configuration`), read through a plain getter so
 * that this module does not know the vscode API. Values typed by a user in settings.json can be
 * anything, so each one is validated; an invalid value falls back to its default and is reported once
 * in the log (VS Code itself already underlines it in the settings editor).
 */
import { z } from 'zod';

export const SETTINGS_SECTION = 'paintsUndo';

const SettingsSchema = z.object({
  backend: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).catch('classic'),
  modelsPath: z.string().catch(''),
  'engine.path': z.string().catch(''),
  'engine.nodePath': z.string().catch(''),
  // Checked where the engine is reached (engine-launch.ts): a wrong address is an error to show, not a
  // value to replace by the default (which would start a local engine instead).
  'engine.url': z.string().catch(''),
  'engine.token': z.string().catch(''),
  seed: z.number().int().min(0).max(0xffffffff).catch(12345),
  'timelapse.format': z.enum(['mp4', 'webm', 'gif']).catch('mp4'),
  'timelapse.frames': z.number().int().min(2).max(3000).catch(100),
  'timelapse.fps': z.number().int().min(1).max(60).catch(25),
  'timelapse.size': z
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 64 && v <= 4096))
    .catch(0),
});
export type Settings = z.infer<typeof SettingsSchema>;
export type SettingKey = keyof Settings;
export const SETTING_KEYS = Object.keys(SettingsSchema.shape) as SettingKey[];

/** Reads one setting (as `workspace.getConfiguration('paintsUndo').get(key)` does). */
export type SettingsReader = (key: SettingKey) => unknown;

export function readSettings(get: SettingsReader, onInvalid?: (key: SettingKey, value: unknown) => void): Settings {
  const raw: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) raw[key] = get(key);
  const settings = SettingsSchema.parse(raw);
  if (onInvalid) {
    for (const key of SETTING_KEYS) {
      const value = raw[key];
      if (value !== undefined && value !== settings[key]) onInvalid(key, value);
    }
  }
  return settings;
}

/** The settings that decide how the engine is started; a change to any of them restarts it. */
export function engineSettingsKey(s: Settings): string {
  return JSON.stringify([s['engine.path'], s['engine.nodePath'], s['engine.url'], s['engine.token'], s.modelsPath]);
}
