/**
 * A promise mutex: work run through it takes turns. CohortConsumer keeps two — its commits (an older
 * commit never lands after a newer one) and its reconciliations (one revocation or assignment at a time).
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
