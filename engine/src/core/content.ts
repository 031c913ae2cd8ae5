/**
 * Layer content: what a layer shows where it is revealed, produced at the size a frame is rendered.
 *
 * One plan is rendered at many sizes (a slider preview at panel size, a 1080p video, a full-resolution
 * export), so a layer holds a recipe rather than fixed pixels: the name of a registered producer and its
 * parameters (plain data and typed arrays, usually at plan resolution). A producer turns the recipe into
 * pixels for one output size. Recipes are structured-cloneable, so a plan made in one worker thread is
 * rendered in another without planning again (see core/replay.ts).
 *
 * Backends register their own producers when their module loads (`defineContent`); the built-in ones
 * below cover solid colours, the finished artwork itself and fixed pixels.
 */
import { createRgba, resizeRgbaArea, type RgbImage, type RgbaImage } from './image.js';

/** The output a content is produced for. */
export interface ContentTarget {
  /** The finished artwork at the output size (the input itself at full size); its size is the output size. */
  readonly art: RgbImage;
  /** Output pixels per plan pixel (the timeline's planScale times output size / full size). */
  readonly scale: number;
}

/** A producer name and its parameters; render with `renderContent`. */
export interface LayerContent<P = unknown> {
  readonly producer: string;
  readonly params: P;
}

type Produce<P> = (params: P, target: ContentTarget) => RgbaImage;

const producers = new Map<string, Produce<unknown>>();

/**
 * Registers a producer under `id` (prefix it with the backend name, e.g. "classic.flats") and returns
 * the function that makes recipes for it, so a recipe's parameters always match its producer.
 * Defining the same id again replaces the producer (a module evaluated twice registers twice).
 */
export function defineContent<P>(id: string, produce: Produce<P>): (params: P) => LayerContent<P> {
  producers.set(id, produce as Produce<unknown>);
  return (params: P): LayerContent<P> => ({ producer: id, params });
}

/** The pixels of `content` for `target`: straight alpha, exactly the size of `target.art`. */
export function renderContent(content: LayerContent, target: ContentTarget): RgbaImage {
  const produce = producers.get(content.producer);
  if (!produce) {
    throw new RangeError(`no layer content producer "${content.producer}" is registered; load the backend that planned this timeline first`);
  }
  const image = produce(content.params, target);
  const { width, height } = target.art;
  if (image.width !== width || image.height !== height || image.data.length !== width * height * 4) {
    throw new RangeError(`content producer "${content.producer}" made ${image.width}x${image.height} pixels for a ${width}x${height} output`);
  }
  return image;
}

/** Opaque pixels of one colour. */
export const solidContent = defineContent<{ readonly rgb: readonly [number, number, number] }>('solid', ({ rgb }, { art }) => {
  const image = createRgba(art.width, art.height);
  const d = image.data;
  const word = new Uint32Array(d.buffer, d.byteOffset, d.length / 4);
  d[0] = rgb[0];
  d[1] = rgb[1];
  d[2] = rgb[2];
  d[3] = 255;
  word.fill(word[0]!);
  return image;
});

/** The finished artwork at the output size, opaque: a top layer revealed everywhere reproduces the input exactly. */
export const artworkContent = defineContent<Readonly<Record<string, never>>>('artwork', (_params, { art }) => opaque(art));

/** Fixed full-resolution pixels, area-averaged (premultiplied) for smaller outputs. */
export const imageContent = defineContent<{ readonly image: RgbaImage }>('image', ({ image }, { art }) =>
  image.width === art.width && image.height === art.height ? image : resizeRgbaArea(image, art.width, art.height),
);

/** `image` with alpha 255. */
export function opaque(image: RgbImage): RgbaImage {
  const out = createRgba(image.width, image.height);
  const s = image.data;
  const d = out.data;
  for (let i = 0, p = 0; i < s.length; i += 3, p += 4) {
    d[p] = s[i]!;
    d[p + 1] = s[i + 1]!;
    d[p + 2] = s[i + 2]!;
    d[p + 3] = 255;
  }
  return out;
}
