import { parse } from '@marcbachmann/cel-js';
import { errorText } from '../../../kernel/tapr-error.js';
import type { RouteRule } from './subscription-types.js';

/** A routing rule whose CEL `match` could not be compiled; names the rule and the reason. */
export class RouteCompileError extends Error {
  readonly rule: RouteRule;

  constructor(rule: RouteRule, reason: string) {
    super(`routing rule match "${rule.match}" (path "${rule.path}") does not compile: ${reason}`);
    this.name = 'RouteCompileError';
    this.rule = rule;
  }
}

/** A routing rule's evaluation failed on an event (unknown field, wrong types, not a bool). */
export class RouteEvaluationError extends Error {
  constructor(match: string, reason: string) {
    super(`routing rule match "${match}" failed: ${reason}`);
    this.name = 'RouteEvaluationError';
  }
}

type Predicate = (variables: { readonly event: unknown }) => unknown;

interface CompiledRule {
  readonly rule: RouteRule;
  /** Absent for an empty `match`, which always matches (Dapr's default route). */
  readonly predicate?: Predicate;
}

/**
 * A subscription's rules with each CEL expression compiled once. `select` walks them in
 * order and returns the first match's path, as Dapr's `findMatchingRoute` does; `undefined`
 * means no rule matched and the event is not delivered.
 */
export class RouteTable {
  readonly #rules: readonly CompiledRule[];

  /** Compiles every rule; throws `RouteCompileError` naming the first that does not compile. */
  constructor(rules: readonly RouteRule[]) {
    this.#rules = rules.map((rule) => {
      const source = rule.match.trim();
      if (source === '') return { rule };
      try {
        const compiled = parse(source);
        return { rule, predicate: (variables) => compiled(variables) };
      } catch (error) {
        throw new RouteCompileError(rule, firstLine(error));
      }
    });
  }

  /** The rules as given, for the metadata API. */
  get rules(): readonly RouteRule[] {
    return this.#rules.map((compiled) => compiled.rule);
  }

  /**
   * The path of the first rule matching `event` (the CloudEvent as parsed JSON), or
   * `undefined` when none does. Throws `RouteEvaluationError` when an expression fails or
   * yields something other than a boolean; Dapr then treats the message as failed.
   */
  select(event: unknown): string | undefined {
    for (const { rule, predicate } of this.#rules) {
      if (predicate === undefined) return rule.path;
      let result: unknown;
      try {
        result = predicate({ event });
      } catch (error) {
        throw new RouteEvaluationError(rule.match, firstLine(error));
      }
      if (typeof result !== 'boolean') {
        throw new RouteEvaluationError(rule.match, 'the result is not a boolean');
      }
      if (result) return rule.path;
    }
    return undefined;
  }
}

// cel-js errors carry a multi-line source excerpt; the first line says what went wrong.
function firstLine(error: unknown): string {
  const text = errorText(error);
  return text.split('\n')[0] ?? text;
}
