/**
 * The quota step of the homogeneous balanced-sticky paths (over all partitions): the partitions `[start, end)` are split among `members` so that each gets
 * `floor(P/N)` and the first `P mod N` unfilled ones one more. Members first keep their lowest
 * owned partitions up to their quota; an owner of more than the quota keeps one extra while extras
 * remain, which keeps the most any balanced split can keep. The rest goes out in ascending runs.
 */
export class QuotaFill {
  private readonly counter: Int32Array;
  private readonly keep: Int32Array;

  constructor(memberCount: number) {
    this.counter = new Int32Array(memberCount);
    this.keep = new Int32Array(memberCount);
  }

  /** Writes owners into `owner[start..end)`; `claimedBy` holds validated current owners (or -1). */
  fill(owner: Int32Array, claimedBy: Int32Array, start: number, end: number, members: Int32Array): void {
    const { counter, keep } = this;
    if (members.length === 0 || end <= start) return;
    const minQuota = Math.floor((end - start) / members.length);
    let extras = (end - start) % members.length;

    for (let g = start; g < end; g++) if (claimedBy[g]! >= 0) counter[claimedBy[g]!]!++;
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      const claimed = counter[m]!;
      keep[m] = Math.min(claimed, minQuota);
      if (claimed > minQuota && extras > 0) {
        keep[m]!++;
        extras--;
      }
      counter[m] = 0;
    }
    for (let g = start; g < end; g++) {
      const m = claimedBy[g]!;
      if (m >= 0 && counter[m]! < keep[m]!) {
        owner[g] = m;
        counter[m]!++;
      }
    }

    let next = start;
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      let want = minQuota - counter[m]!;
      if (keep[m]! <= minQuota && extras > 0) {
        want++;
        extras--;
      }
      for (; want > 0; want--) {
        while (owner[next] !== -1) next++;
        owner[next] = m;
      }
      counter[m] = 0;
    }
  }
}
