/**
 * ag-psd, set up for Node. ag-psd allocates 8-bit RGBA pixel buffers through a canvas by default,
 * and Node has none: plain `{ width, height, data }` objects are all it needs with `useImageData`.
 * Import ag-psd through this module (lazily), never directly.
 */
import * as agPsd from 'ag-psd';

agPsd.initializeCanvas(
  () => {
    throw new Error('paints-undo reads and writes PSD pixels as image data; no canvas is available in Node');
  },
  (width: number, height: number) => ({ width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: 'srgb' }),
);

export const { readPsd, writePsdUint8Array } = agPsd;
