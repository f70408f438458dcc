/**
 * A promise mutex: record processing, commits and rebalance reconciliation take turns, so a revocation
 * waits for the record in flight and never interleaves with a commit of the same partitions.
 */

export class ProcessingLock {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` once every earlier holder has finished; errors reach only this caller. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => {});
    return result;
  }
}
