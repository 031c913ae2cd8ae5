/** Small helpers shared by the latency benchmarks. */

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** 40 distinct steps in scrubbing order (a drag across the range, then jumps), none of them 999. */
export function scrubSteps(): number[] {
  const steps: number[] = [];
  for (let s = 0; s < 999 && steps.length < 20; s += 50) steps.push(s);
  let x = 11;
  while (steps.length < 40) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const s = x % 999;
    if (!steps.includes(s)) steps.push(s);
  }
  return steps;
}
