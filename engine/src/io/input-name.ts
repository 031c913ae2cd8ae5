/**
 * How an input is named in messages. Decoders get a `name`: a file (its path or name) or a phrase that
 * says what the input is ("the upload", "the uploaded image"); a sentence about it starts with
 * inputSubject.
 */

/** "The input art.png" / "The image art.png" / "The PSD art.psd" for a file; "The upload" for a phrase. */
export function inputSubject(name: string, noun: 'input' | 'image' | 'PSD'): string {
  return /^the /i.test(name) ? name.charAt(0).toUpperCase() + name.slice(1) : `The ${noun} ${name}`;
}
