/**
 * A binary min-heap of member indexes ordered by a live load array (ties by index, for determinism).
 * Callers change a member's load in place and then tell the heap which member moved and which way.
 */
export class MemberHeap {
  private readonly heap: Int32Array;
  /** Position of each member in `heap`, valid for the members added by the last `reset`. */
  private readonly position: Int32Array;
  private size = 0;

  private readonly load: Int32Array;

  constructor(load: Int32Array, memberCount: number) {
    this.load = load;
    this.heap = new Int32Array(memberCount);
    this.position = new Int32Array(memberCount);
  }

  /** Replaces the contents with `members` and heapifies in O(n). */
  reset(members: Int32Array): void {
    this.heap.set(members);
    this.size = members.length;
    for (let i = 0; i < this.size; i++) this.position[this.heap[i]!] = i;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The least-loaded member; only valid when not empty. */
  top(): number {
    return this.heap[0]!;
  }

  /** Restores order after the top member's load increased. */
  topIncreased(): void {
    this.siftDown(0);
  }

  /** Restores order after `member`'s load decreased; `member` must be in the heap. */
  decreased(member: number): void {
    this.siftUp(this.position[member]!);
  }

  private less(a: number, b: number): boolean {
    const la = this.load[a]!;
    const lb = this.load[b]!;
    return la < lb || (la === lb && a < b);
  }

  private place(i: number, member: number): void {
    this.heap[i] = member;
    this.position[member] = i;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const item = heap[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(heap[child + 1]!, heap[child]!)) child++;
      if (!this.less(heap[child]!, item)) break;
      this.place(i, heap[child]!);
      i = child;
    }
    this.place(i, item);
  }

  private siftUp(start: number): void {
    const heap = this.heap;
    const item = heap[start]!;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, heap[parent]!)) break;
      this.place(i, heap[parent]!);
      i = parent;
    }
    this.place(i, item);
  }
}
