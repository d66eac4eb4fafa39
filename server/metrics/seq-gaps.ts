/**
 * Messages lost according to `seq` (EVENTS.md: increasing per source and lane). A jump counts the
 * numbers it skipped; when one of them arrives after all, it was late, not lost, and is taken back.
 * Only the last few gaps per source are remembered for that, so memory stays bounded.
 */
const REMEMBERED_GAPS = 32;

interface SourceSeq {
  last: number;
  /** Skipped numbers still missing, as [from, to] ranges, oldest first. */
  gaps: [number, number][];
}

export class SeqGaps {
  lost = 0;
  private readonly sources = new Map<string, SourceSeq>();

  observe(source: string, seq: number): void {
    const known = this.sources.get(source);
    if (!known) {
      this.sources.set(source, { last: seq, gaps: [] });
      return;
    }
    if (seq > known.last + 1) {
      this.lost += seq - known.last - 1;
      known.gaps.push([known.last + 1, seq - 1]);
    }
    if (seq > known.last) known.last = seq;
    else this.arrivedLate(known.gaps, seq);
    if (known.gaps.length > REMEMBERED_GAPS) known.gaps.shift();
  }

  private arrivedLate(gaps: [number, number][], seq: number): void {
    for (let i = gaps.length - 1; i >= 0; i--) {
      const [from, to] = gaps[i] as [number, number];
      if (seq < from || seq > to) continue;
      this.lost--;
      const rest: [number, number][] = [];
      if (from < seq) rest.push([from, seq - 1]);
      if (seq < to) rest.push([seq + 1, to]);
      gaps.splice(i, 1, ...rest);
      return;
    }
  }
}
