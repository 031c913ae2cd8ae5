/**
 * Faulting fresh shared memory in on an idle worker, ahead of the thread that fills it.
 *
 * The first write to each page of new memory makes the OS map a page in (a page fault). For the 48 MB of a
 * 4096 px RGB upload that is ~130 ms on a 2-core VM (a second pass over the same memory takes ~14 ms),
 * and without help the main thread pays it while it copies the request body in, the thread every client
 * waits on. An idle worker that touches the pages first pays it instead, in parallel with the upload:
 * measured on the canvas benchmark, reading a 4096 px raw upload took 265-275 ms into memory faulted in
 * beforehand, 345-415 ms into fresh memory.
 *
 * A touch is a compare-exchange of 0 for 0 on one word per page: whatever order it and the main thread's
 * writes land in, it changes no byte (an atomic read-modify-write cannot interleave with another write to
 * its word), so it needs no coordination with the writer.
 */

/** Smaller buffers are not worth a message: 8 MB faults in within ~25 ms. */
export const FAULT_IN_MIN_BYTES = 8 * 1024 * 1024;
/** Touched once per this many bytes: the smallest page size of the platforms Node runs on. */
const PAGE_BYTES = 4096;
/** Touched between two turns of the event loop, so that a job or a cancel waits at most ~20 ms behind it. */
const SLICE_BYTES = 8 * 1024 * 1024;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Touches every page of `buffer`, first to last (the order it is filled in), a slice per turn of the event loop. */
export async function faultIn(buffer: SharedArrayBuffer): Promise<void> {
  const words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  const stride = PAGE_BYTES >> 2;
  const slice = SLICE_BYTES >> 2;
  for (let start = 0; start < words.length; start += slice) {
    const end = Math.min(words.length, start + slice);
    for (let i = start; i < end; i += stride) Atomics.compareExchange(words, i, 0, 0);
    await yieldToLoop();
  }
}
