/**
 * Which file names are taken for images when a folder or a pattern is expanded (eval, CLI batches).
 * A file the user names explicitly is read whatever its name: the decoder says what is wrong with it.
 */
import { extname } from 'node:path';

/** Extensions of the formats the decoder reads (io/decode.ts), lower case, with the dot. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif', '.psd']);

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}
