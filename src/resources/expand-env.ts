/** Environment variables as a lookup table (process.env by default). */
export type Environment = Readonly<Record<string, string | undefined>>;

const SPECIAL = '*#$@!?-0123456789';

/**
 * Reads the variable name after a `$`: returns the name and how many characters it used.
 * An empty name with a non-zero width is bad syntax (`${}`, unterminated `${`), which is
 * dropped; an empty name with zero width leaves the `$` as it is.
 */
function shellName(rest: string): { name: string; width: number } {
  if (rest.startsWith('{')) {
    if (rest.length > 2 && SPECIAL.includes(rest[1] ?? '') && rest[2] === '}') {
      return { name: rest[1] ?? '', width: 3 };
    }
    const close = rest.indexOf('}', 1);
    if (close === 1) return { name: '', width: 2 };
    if (close > 1) return { name: rest.slice(1, close), width: close + 1 };
    return { name: '', width: 1 };
  }
  if (rest.length > 0 && SPECIAL.includes(rest[0] ?? '')) return { name: rest[0] ?? '', width: 1 };
  const match = /^[A-Za-z0-9_]*/.exec(rest);
  const name = match?.[0] ?? '';
  return { name, width: name.length };
}

/**
 * Replaces `$VAR` and `${VAR}` with values from `env`, unset variables with nothing, exactly
 * as Go's os.ExpandEnv does for Dapr's `--config` file (so `$$` also expands, to `$`'s value).
 */
export function expandEnv(text: string, env: Environment): string {
  let out = '';
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    if (text[index] !== '$' || index + 1 >= text.length) continue;
    out += text.slice(start, index);
    const { name, width } = shellName(text.slice(index + 1));
    if (name === '' && width === 0) out += '$';
    else if (name !== '') out += env[name] ?? '';
    index += width;
    start = index + 1;
  }
  return out + text.slice(start);
}
