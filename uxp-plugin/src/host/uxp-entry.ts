/**
 * Builds the PhotoshopHost from the real UXP modules. Type-checked by uxp-plugin/tsconfig.json: the
 * assignments below are the compile-time proof that @types/photoshop and the UXP typings satisfy the
 * narrow module types the host implementation is written (and tested) against.
 */
import type * as Photoshop from 'photoshop';
import type * as UxpModule from 'uxp';
import type { PhotoshopModules, UxpModules } from './ps-api.js';
import { UxpPhotoshopHost, type PhotoshopHostOptions } from './photoshop-host.js';
import type { PhotoshopHost } from './types.js';

type Uxp = typeof UxpModule;
type FileSystemProvider = InstanceType<Uxp['storage']['FileSystemProvider']>;
type SecureStorage = Uxp['secureStorage'];
declare const require: (id: 'photoshop' | 'uxp') => unknown;

/**
 * Photoshop's action events (string codes of its event table) after which the panel looks at the active
 * document again: opened, closed, switched or selected (a document, a layer, a history state), made or
 * duplicated, layers deleted, and a new mode, image size, canvas size or crop. Painting sends none: the
 * slider finds a new history state when it next asks for a frame.
 */
const DOCUMENT_EVENTS = ['open', 'close', 'select', 'make', 'duplicate', 'delete', 'convertMode', 'imageSize', 'canvasSize', 'crop'];

/** Calls `listener` when the user changes which document, layer or history state the panel would read. */
export function onDocumentChange(listener: () => void): void {
  const photoshop = require('photoshop') as typeof Photoshop;
  void photoshop.action.addNotificationListener(DOCUMENT_EVENTS, () => listener());
}

export function createUxpHost(options: PhotoshopHostOptions = {}): PhotoshopHost {
  const photoshop: PhotoshopModules = require('photoshop') as typeof Photoshop;
  const uxp = require('uxp') as Uxp;
  // UXP documents `require('uxp').storage.localFileSystem` and `.storage.secureStorage`; the 7.3 typings
  // declare their classes but not these instances (secureStorage only at the top level), so both
  // places are looked up and typed with the declared classes.
  const storage = uxp.storage as Uxp['storage'] & { localFileSystem: FileSystemProvider; secureStorage?: SecureStorage };
  const modules: UxpModules = {
    storage: {
      localFileSystem: storage.localFileSystem,
      formats: storage.formats,
      secureStorage: storage.secureStorage ?? uxp.secureStorage,
    },
  };
  return new UxpPhotoshopHost(photoshop, modules, options);
}
