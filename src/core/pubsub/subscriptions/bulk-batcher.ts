/** One item waiting in a batch, settled when its batch has been processed. */
export interface BatchItem<T> {
  readonly value: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Processes one batch; must settle every item (resolve or reject) before it resolves. */
export type BatchProcessor<T> = (items: readonly BatchItem<T>[]) => Promise<void>;

/**
 * Collects items into batches as Dapr's default bulk subscriber does: a batch goes out when it
 * holds `maxCount` items, or `maxAwaitMs` after its first item arrived. Batches are processed
 * one at a time, in order; items arriving meanwhile form the next batch.
 */
export class BulkBatcher<T> {
  readonly #maxCount: number;
  readonly #maxAwaitMs: number;
  readonly #process: BatchProcessor<T>;
  #pending: BatchItem<T>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(maxCount: number, maxAwaitMs: number, process: BatchProcessor<T>) {
    this.#maxCount = Math.max(1, maxCount);
    this.#maxAwaitMs = Math.max(0, maxAwaitMs);
    this.#process = process;
  }

  /** Adds an item; settles when the batch it went out in has been processed. */
  push(value: T): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the bulk subscription is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ value, resolve, reject });
      if (this.#pending.length >= this.#maxCount) this.#flush();
      else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#flush(), this.#maxAwaitMs);
      }
    });
  }

  /** Sends what is pending now and refuses new items; resolves when every batch is done. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    await this.#chain;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxCount);
      this.#chain = this.#chain.then(() => this.#run(batch));
    }
  }

  async #run(batch: readonly BatchItem<T>[]): Promise<void> {
    try {
      await this.#process(batch);
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}
