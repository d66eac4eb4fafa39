/**
 * Seeded randomness for the simulator. Every consumer gets its own named stream derived from the
 * sale seed, so one lane's draws never depend on how many another lane made: lanes can be
 * generated lazily and interleaved in any order and still come out the same.
 */

/** A mulberry32 stream: tiny, fast, and plenty for simulation (period 2³², far beyond one stream's use). */
export class Random {
  private state: number;

  constructor(seed: number, stream: string) {
    this.state = hash(`${seed}/${stream}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick() from an empty list');
    return item;
  }

  /** Fisher–Yates, returning a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  /** Box–Muller; 1 − u keeps the logarithm away from 0. */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Right-skewed positive durations (latencies, gaps): `median` is the 50th percentile. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma));
  }

  /**
   * Exact Poisson draws. Knuth's product method costs one uniform per unit of `mean`, so counts
   * of dozens use Hörmann's PTRS (transformed rejection, ~2 uniforms per draw, as in NumPy).
   */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean < 10) {
      const limit = Math.exp(-mean);
      let k = 0;
      for (let p = this.next(); p > limit; p *= this.next()) k++;
      return k;
    }
    const slam = Math.sqrt(mean);
    const loglam = Math.log(mean);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
      if (lhs <= -mean + k * loglam - logFactorial(k)) return k;
    }
  }
}

const LOG_FACTORIALS = [0];
for (let k = 1; k < 256; k++) LOG_FACTORIALS.push((LOG_FACTORIALS[k - 1] as number) + Math.log(k));

function logFactorial(k: number): number {
  const exact = LOG_FACTORIALS[k];
  if (exact !== undefined) return exact;
  // Stirling's series; at k ≥ 256 its error is far below a double's precision for these sums.
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k);
}

/** FNV-1a with a murmur3 finalizer, so neighbouring seeds and names give unrelated streams. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
