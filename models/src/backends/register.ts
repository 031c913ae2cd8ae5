/**
 * Adds the official-model backends to the engine's backend registry. Importing this module is enough;
 * the heavy model code loads only when a job asks for the backend.
 */
import { registerBackend } from '../../../engine/src/backends/registry.js';

registerBackend({
  id: 'paintsundo-single',
  displayName: 'PaintsUndo single-frame model (official weights)',
  description:
    'The official PaintsUndo single-frame model on onnxruntime (CUDA when installed, else CPU): frames and keyframes. Needs the model download, see `paints-undo models verify`.',
  create: async () => {
    const { createSingleFrameBackend } = await import('./single-frame.js');
    return createSingleFrameBackend();
  },
});
