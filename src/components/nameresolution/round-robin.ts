/**
 * Takes turns among the current candidates of each key (`namespace/appId`), one counter per
 * key and per resolver instance. Candidates must come in a stable order (the resolvers sort
 * them) so consecutive picks walk the list; when instances join or leave, the walk continues
 * over the new list.
 */
export class RoundRobin {
  readonly #next = new Map<string, number>();

  /** The candidate whose turn it is; undefined when there are none. */
  pick<T>(key: string, candidates: readonly T[]): T | undefined {
    if (candidates.length === 0) return undefined;
    const turn = this.#next.get(key) ?? 0;
    this.#next.set(key, (turn + 1) % Number.MAX_SAFE_INTEGER);
    return candidates[turn % candidates.length];
  }
}
