/**
 * `layers.json`: the manifest written beside the PNGs of a layers export (`--format png`, and the
 * engine's layers jobs), so that a folder of PNG layers says how they stack, as a PSD does: the order,
 * each layer's name, blend mode and visibility. A PNG has no blend mode and no visibility of its own,
 * and the classic process ends with layers that must not simply be stacked: a sketch multiplied on top
 * of a painting, hidden once the colours carry the drawing.
 *
 * Each PNG's alpha already holds the layer's coverage and opacity: stacked bottom first with their blend
 * modes, the visible layers over white paper give the finished artwork (`composite`).
 *
 * This module runs in Node, browsers and UXP (the panel reads the manifest of a layers job): zod only.
 */
import { z } from 'zod';

export const LAYERS_MANIFEST_FILE = 'layers.json';
export const LAYERS_MANIFEST_FORMAT = 'paints-undo-layers';
/** The finished artwork beside the layers (not a layer). */
export const LAYERS_COMPOSITE_FILE = 'composite.png';

/** A file of the export: a plain name inside its folder (no path), as the engine writes them. */
const FileNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.png$/, 'a PNG file name inside the folder, such as "01-sketch.png"');

export const ManifestLayerSchema = z.object({
  file: FileNameSchema,
  /** Stable id of the layer in the process ("sketch", "flats", "lineart"...). */
  id: z.string().min(1).max(64),
  /** The name to show ("Sketch", "Line art"...). */
  name: z.string().min(1).max(200),
  blend: z.enum(['normal', 'multiply']),
  visible: z.boolean(),
});
export type ManifestLayer = z.infer<typeof ManifestLayerSchema>;

export const LayersManifestSchema = z.object({
  format: z.literal(LAYERS_MANIFEST_FORMAT),
  version: z.literal(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Bottom first: the order they are painted in. */
  layers: z.array(ManifestLayerSchema).min(1).max(64),
  /** The finished artwork, not a layer. */
  composite: FileNameSchema,
  backend: z.string(),
  backendVersion: z.string(),
  seed: z.number().int(),
});
export type LayersManifest = z.infer<typeof LayersManifestSchema>;

/** The manifest in `text`, or why it is not one (a sentence naming the first field that is wrong). */
export function parseLayersManifest(text: string): { manifest: LayersManifest } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `${LAYERS_MANIFEST_FILE} is not JSON` };
  }
  const parsed = LayersManifestSchema.safeParse(json);
  if (parsed.success) return { manifest: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { error: `${LAYERS_MANIFEST_FILE}: ${issue.path.length > 0 ? issue.path.join('.') : 'the file'}: ${issue.message}` };
}
