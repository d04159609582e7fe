/**
 * A subscription's topic filter as the broker applies it: `+` matches one level, `#` the rest
 * (the parent level included), and a shared subscription `$share/<group>/<filter>` matches what
 * `<filter>` does, since the broker delivers those messages under their real topic.
 */
export class TopicFilter {
  /** The filter as subscribed, `$share/` prefix included. */
  readonly subscribed: string;
  /** The filter without a `$share/<group>/` prefix. */
  readonly filter: string;
  readonly #levels: readonly string[];
  readonly #wildcard: boolean;

  constructor(subscribed: string) {
    this.subscribed = subscribed;
    this.filter = stripShare(subscribed);
    this.#levels = this.filter.split('/');
    this.#wildcard = this.#levels.some((level) => level === '+' || level === '#');
  }

  /** Whether a message published to `topic` falls under this filter. */
  matches(topic: string): boolean {
    if (!this.#wildcard) return topic === this.filter;
    // Topics starting with `$` are the broker's own; wildcards at the first level skip them.
    if (topic.startsWith('$') && !this.filter.startsWith('$')) return false;
    const levels = topic.split('/');
    for (let index = 0; index < this.#levels.length; index++) {
      const pattern = this.#levels[index];
      if (pattern === '#') return true;
      const level = levels[index];
      if (level === undefined) return false;
      if (pattern !== '+' && pattern !== level) return false;
    }
    return levels.length === this.#levels.length;
  }

  /** Whether the filter has wildcards (otherwise only its exact topic matches). */
  get wildcard(): boolean {
    return this.#wildcard;
  }
}

/** `$share/<group>/<filter>` -> `<filter>`; other filters unchanged. */
function stripShare(filter: string): string {
  const match = /^\$share\/[^/]+\/(.+)$/.exec(filter);
  return match?.[1] ?? filter;
}
