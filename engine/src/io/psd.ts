/**
 * Layer decomposition exports: a layered PSD (ag-psd) and one PNG per layer.
 *
 * PSD provenance: the document carries XMP (dc:description, xmp:CreatorTool, the provenance JSON),
 * and the top of the stack is a hidden, empty layer whose name states that this is a generated
 * reconstruction, because the Layers panel is where artists actually look.
 */
import { join } from 'node:path';
import type { LayerStack } from '../core/backend.js';
import { isPaintsUndoError, throwIfCancelled } from '../core/errors.js';
import type { Image8 } from '../core/image.js';
import { LAYERS_COMPOSITE_FILE, LAYERS_MANIFEST_FILE, LAYERS_MANIFEST_FORMAT, parseLayersManifest, type LayersManifest, type ManifestLayer } from '../client/layers-manifest.js';
import { FileSet, ensureFolder } from './atomic.js';
import { readInputFile } from './input-file.js';
import { encodePng } from './png.js';
import { provenanceSummary, type Provenance } from './provenance.js';

export const PROVENANCE_LAYER_PREFIX = 'Generated reconstruction';

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmp(p: Provenance): string {
  const summary = xmlEscape(provenanceSummary(p));
  return `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pu="https://github.com/paints-undo/ns/1.0/">
   <xmp:CreatorTool>paints-undo ${xmlEscape(p.generatorVersion)}</xmp:CreatorTool>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${summary}</rdf:li></rdf:Alt></dc:description>
   <pu:provenance>${xmlEscape(JSON.stringify(p))}</pu:provenance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;
}

/** Encodes a layered PSD: the decomposed layers bottom to top, the composite, and provenance. */
export async function encodeLayeredPsd(stack: LayerStack, composite: Image8, provenance: Provenance): Promise<Uint8Array> {
  const { writePsdUint8Array } = await import('./ag-psd.js');
  const { width, height } = stack;
  const compositeRgba = new Uint8ClampedArray(width * height * 4);
  const k = composite.channels;
  for (let p = 0, s = 0; p < compositeRgba.length; p += 4, s += k) {
    compositeRgba[p] = composite.data[s]!;
    compositeRgba[p + 1] = composite.data[s + 1]!;
    compositeRgba[p + 2] = composite.data[s + 2]!;
    compositeRgba[p + 3] = k === 4 ? composite.data[s + 3]! : 255;
  }
  const children = stack.layers.map((layer) => ({
    name: layer.name,
    blendMode: layer.blend,
    hidden: !layer.visible,
    opacity: 1,
    top: 0,
    left: 0,
    imageData: {
      width: layer.image.width,
      height: layer.image.height,
      data: new Uint8ClampedArray(layer.image.data.buffer, layer.image.data.byteOffset, layer.image.data.byteLength),
    },
  }));
  children.push({
    name: `${PROVENANCE_LAYER_PREFIX} by paints-undo (${provenance.backend} ${provenance.backendVersion}, seed ${provenance.seed}) - not a recording`,
    blendMode: 'normal',
    hidden: true,
    opacity: 1,
    top: 0,
    left: 0,
    imageData: { width: 1, height: 1, data: new Uint8ClampedArray(4) },
  });
  const bytes = writePsdUint8Array(
    {
      width,
      height,
      imageData: { width, height, data: compositeRgba },
      children,
      imageResources: { xmpMetadata: xmp(provenance) },
    },
    { generateThumbnail: false, noBackground: true, trimImageData: true },
  );
  return bytes;
}

/** File names of layer PNGs: "01-sketch.png", "02-lineart.png"... (bottom to top, sortable). */
export function layerFileName(index: number, id: string): string {
  const safe = id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'layer';
  return `${String(index + 1).padStart(2, '0')}-${safe}.png`;
}

/**
 * Writes one PNG per layer (straight alpha, provenance chunk), `composite.png` and the manifest
 * (`layers.json`: order, names, blend modes, visibility) into `folder`. Each file is atomic and the set
 * all or nothing: on error or abort the files this call added are removed and those it replaced (an
 * earlier export into the folder) put back. Layer files an earlier export listed in its manifest and
 * this one does not write (another image's process has other layers) are removed with the commit, so the
 * folder holds one export, never a mix of two.
 */
export async function writeLayerPngs(
  folder: string,
  stack: LayerStack,
  composite: Image8,
  provenance: Provenance,
  signal?: AbortSignal,
): Promise<string[]> {
  const target = await ensureFolder(folder);
  const earlier = await earlierLayerFiles(target, signal);
  const files = new FileSet();
  const written: string[] = [];
  try {
    const layers: ManifestLayer[] = [];
    for (const [i, layer] of stack.layers.entries()) {
      throwIfCancelled(signal);
      const file = layerFileName(i, layer.id);
      const path = join(target, file);
      await files.write(path, await encodePng(layer.image, { ...provenance, layer: layer.name }));
      written.push(path);
      layers.push({ file, id: layer.id, name: layer.name, blend: layer.blend, visible: layer.visible });
    }
    throwIfCancelled(signal);
    const compositePath = join(target, LAYERS_COMPOSITE_FILE);
    await files.write(compositePath, await encodePng(composite, provenance));
    written.push(compositePath);
    const manifest: LayersManifest = {
      format: LAYERS_MANIFEST_FORMAT,
      version: 1,
      width: stack.width,
      height: stack.height,
      layers,
      composite: LAYERS_COMPOSITE_FILE,
      backend: provenance.backend,
      backendVersion: provenance.backendVersion,
      seed: provenance.seed,
    };
    const manifestPath = join(target, LAYERS_MANIFEST_FILE);
    await files.write(manifestPath, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
    written.push(manifestPath);
    const now = new Set(layers.map((l) => l.file));
    for (const file of earlier) if (!now.has(file)) await files.remove(join(target, file));
    throwIfCancelled(signal);
    await files.commit();
    return written;
  } catch (error) {
    await files.rollback();
    throw error;
  }
}

/** A manifest is a few hundred bytes; anything far larger in its place is not one. */
const MANIFEST_MAX_BYTES = 1024 * 1024;

/**
 * The layer files the manifest of an earlier export in `folder` lists; none when there is no manifest or
 * it is not one (then nothing is removed: only files a manifest names as its layers are ever taken away).
 */
async function earlierLayerFiles(folder: string, signal: AbortSignal | undefined): Promise<string[]> {
  let text: string;
  try {
    const bytes = await readInputFile(join(folder, LAYERS_MANIFEST_FILE), { maxBytes: MANIFEST_MAX_BYTES, input: false, ...(signal ? { signal } : {}) });
    text = bytes.toString('utf8');
  } catch (error) {
    if (isPaintsUndoError(error) && error.code === 'CANCELLED') throw error;
    return [];
  }
  const parsed = parseLayersManifest(text);
  return 'manifest' in parsed ? parsed.manifest.layers.map((l) => l.file) : [];
}
