import { isStateETagError, StateETagError } from '../../components/contracts/state.js';
import { errorText } from '../../kernel/tapr-error.js';

/**
 * Runs `work` for every item with at most `limit` in flight (all at once when `limit` <= 0, as
 * Dapr's default bulk store does), keeping the results in item order.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const width = limit > 0 ? Math.min(limit, items.length) : items.length;
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

/**
 * Runs every write and, when some fail, gives one error as Dapr's bulk writes do (components-
 * contrib `DoBulkSetDelete` joins the failures with newlines). When every failure is an ETag
 * error the result is an ETag error too (invalid if any was invalid, else mismatch) whose text
 * prefixes the joined ones; when only some are, the first one's kind is kept, because Dapr finds
 * it inside the joined error with `errors.As`.
 */
export async function runWrites(writes: readonly (() => Promise<void>)[]): Promise<void> {
  const outcomes = await Promise.all(
    writes.map((write) =>
      write().then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
    ),
  );
  const failures = outcomes.flatMap((outcome) => (outcome ? [outcome.error] : []));
  if (failures.length === 0) return;
  if (writes.length === 1) throw failures[0];
  const joined = failures.map(errorText).join('\n');
  const etagErrors = failures.filter(isStateETagError);
  if (etagErrors.length === 0) throw new Error(joined);
  if (etagErrors.length === failures.length) {
    const kind = etagErrors.some((e) => e.kind === 'invalid') ? 'invalid' : 'mismatch';
    const prefix =
      kind === 'invalid' ? 'invalid etag value' : 'possible etag mismatch. error from state store';
    throw new StateETagError(kind, `${prefix}: ${joined}`);
  }
  throw new StateETagError((etagErrors[0] as StateETagError).kind, joined);
}
