// A small, safe evaluator for the CEL subset circuit-breaker `trip` expressions use. Dapr
// compiles them with cel-go; a full CEL engine for five integer counters is not worth a
// dependency, and writing the parser keeps evaluation free of `eval`.
//
// Grammar (CEL precedence, loosest first):
//   or      := and ('||' and)*
//   and     := rel ('&&' rel)*
//   rel     := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)*
//   sum     := product (('+' | '-') product)*
//   product := unary (('*' | '/' | '%') unary)*
//   unary   := ('!' | '-') unary | primary
//   primary := integer | 'true' | 'false' | identifier | '(' or ')'

/** The gobreaker counts a trip expression reads; Dapr exposes these five names. */
export interface BreakerCounts {
  readonly requests: number;
  readonly totalSuccesses: number;
  readonly totalFailures: number;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
}

/** The identifiers a trip expression may use. */
export const TRIP_VARIABLES: readonly (keyof BreakerCounts)[] = [
  'requests',
  'totalSuccesses',
  'totalFailures',
  'consecutiveSuccesses',
  'consecutiveFailures',
];

/** A compiled trip expression: true means "open the breaker". */
export type TripPredicate = (counts: BreakerCounts) => boolean;

const TRIP_ERROR = Symbol.for('tapr.resiliency.tripExpression');

/** Why a trip expression does not compile; `position` is a 0-based offset into the text. */
export class TripExpressionError extends Error {
  readonly [TRIP_ERROR] = true;
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.name = 'TripExpressionError';
    this.position = position;
  }
}

/** True for a `TripExpressionError`. */
export function isTripExpressionError(value: unknown): value is TripExpressionError {
  return typeof value === 'object' && value !== null && TRIP_ERROR in value;
}

type ValueType = 'int' | 'bool';
type Value = number | boolean;
// Evaluation errors (division by zero) are signalled by `undefined`, as CEL's error value.
type Evaluator = (counts: BreakerCounts) => Value | undefined;

interface Node {
  readonly type: ValueType;
  readonly evaluate: Evaluator;
  readonly position: number;
}

interface Token {
  readonly text: string;
  readonly kind: 'int' | 'ident' | 'op' | 'end';
  readonly position: number;
}

const OPERATORS = ['&&', '||', '<=', '>=', '==', '!=', '<', '>', '+', '-', '*', '/', '%', '!', '('];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    if (/\s/.test(char)) {
      index++;
      continue;
    }
    const rest = text.slice(index);
    const number = /^\d+(\.\d*)?([eE][+-]?\d+)?[uU]?/.exec(rest);
    if (number) {
      if (!/^\d+$/.test(number[0])) {
        throw new TripExpressionError(
          `only integer literals are supported, got "${number[0]}"`,
          index,
        );
      }
      tokens.push({ text: number[0], kind: 'int', position: index });
      index += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      tokens.push({ text: ident[0], kind: 'ident', position: index });
      index += ident[0].length;
      continue;
    }
    const op = [...OPERATORS, ')'].find((candidate) => rest.startsWith(candidate));
    if (op === undefined) throw new TripExpressionError(`unexpected character "${char}"`, index);
    tokens.push({ text: op, kind: 'op', position: index });
    index += op.length;
  }
  tokens.push({ text: '', kind: 'end', position: text.length });
  return tokens;
}

class Parser {
  readonly #tokens: Token[];
  #index = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  parse(): Node {
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== 'end')
      throw new TripExpressionError(`unexpected "${next.text}"`, next.position);
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#index] as Token;
  }

  #take(...ops: string[]): Token | undefined {
    const token = this.#peek();
    if (token.kind === 'op' && ops.includes(token.text)) {
      this.#index++;
      return token;
    }
    return undefined;
  }

  #or(): Node {
    let left = this.#and();
    for (let op = this.#take('||'); op; op = this.#take('||')) {
      left = logical(op, left, this.#and());
    }
    return left;
  }

  #and(): Node {
    let left = this.#relation();
    for (let op = this.#take('&&'); op; op = this.#take('&&')) {
      left = logical(op, left, this.#relation());
    }
    return left;
  }

  #relation(): Node {
    let left = this.#sum();
    const ops = ['<', '<=', '>', '>=', '==', '!='];
    for (let op = this.#take(...ops); op; op = this.#take(...ops)) {
      left = relation(op, left, this.#sum());
    }
    return left;
  }

  #sum(): Node {
    let left = this.#product();
    for (let op = this.#take('+', '-'); op; op = this.#take('+', '-')) {
      left = arithmetic(op, left, this.#product());
    }
    return left;
  }

  #product(): Node {
    let left = this.#unary();
    for (let op = this.#take('*', '/', '%'); op; op = this.#take('*', '/', '%')) {
      left = arithmetic(op, left, this.#unary());
    }
    return left;
  }

  #unary(): Node {
    const op = this.#take('!', '-');
    if (!op) return this.#primary();
    const operand = this.#unary();
    const wanted: ValueType = op.text === '!' ? 'bool' : 'int';
    expectType(operand, wanted, op.text);
    const evaluate: Evaluator =
      op.text === '!'
        ? (counts) => {
            const value = operand.evaluate(counts);
            return value === undefined ? undefined : !value;
          }
        : (counts) => {
            const value = operand.evaluate(counts);
            return value === undefined ? undefined : -Number(value);
          };
    return { type: wanted, evaluate, position: op.position };
  }

  #primary(): Node {
    const token = this.#peek();
    if (token.kind === 'int') {
      this.#index++;
      const value = Number(token.text);
      return { type: 'int', evaluate: () => value, position: token.position };
    }
    if (token.kind === 'ident') {
      this.#index++;
      if (token.text === 'true' || token.text === 'false') {
        const value = token.text === 'true';
        return { type: 'bool', evaluate: () => value, position: token.position };
      }
      const name = TRIP_VARIABLES.find((variable) => variable === token.text);
      if (name === undefined) {
        throw new TripExpressionError(
          `unknown identifier "${token.text}" (known: ${TRIP_VARIABLES.join(', ')})`,
          token.position,
        );
      }
      return { type: 'int', evaluate: (counts) => counts[name], position: token.position };
    }
    if (this.#take('(')) {
      const inner = this.#or();
      if (!this.#take(')')) {
        const next = this.#peek();
        throw new TripExpressionError(
          next.kind === 'end' ? 'missing ")"' : `expected ")", got "${next.text}"`,
          next.position,
        );
      }
      return inner;
    }
    throw new TripExpressionError(
      token.kind === 'end' ? 'unexpected end of expression' : `unexpected "${token.text}"`,
      token.position,
    );
  }
}

function expectType(node: Node, type: ValueType, op: string): void {
  if (node.type !== type) {
    throw new TripExpressionError(
      `"${op}" needs ${type} operands, got ${node.type}`,
      node.position,
    );
  }
}

// CEL's && and || absorb errors when the other side decides the result (`false && error` is
// false), so each side is evaluated before combining.
function logical(op: Token, left: Node, right: Node): Node {
  expectType(left, 'bool', op.text);
  expectType(right, 'bool', op.text);
  const decisive = op.text === '||';
  const evaluate: Evaluator = (counts) => {
    const a = left.evaluate(counts);
    if (a === decisive) return decisive;
    const b = right.evaluate(counts);
    if (b === decisive) return decisive;
    return a === undefined || b === undefined ? undefined : !decisive;
  };
  return { type: 'bool', evaluate, position: left.position };
}

function relation(op: Token, left: Node, right: Node): Node {
  const equality = op.text === '==' || op.text === '!=';
  if (equality) {
    if (left.type !== right.type) {
      throw new TripExpressionError(
        `"${op.text}" compares ${left.type} with ${right.type}`,
        op.position,
      );
    }
  } else {
    expectType(left, 'int', op.text);
    expectType(right, 'int', op.text);
  }
  const compare = COMPARATORS[op.text] as (a: Value, b: Value) => boolean;
  const evaluate: Evaluator = (counts) => {
    const a = left.evaluate(counts);
    const b = right.evaluate(counts);
    return a === undefined || b === undefined ? undefined : compare(a, b);
  };
  return { type: 'bool', evaluate, position: left.position };
}

const COMPARATORS: Readonly<Record<string, (a: Value, b: Value) => boolean>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

// CEL int arithmetic: division truncates toward zero; dividing by zero is an error.
const ARITHMETIC: Readonly<Record<string, (a: number, b: number) => number | undefined>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? undefined : Math.trunc(a / b)),
  '%': (a, b) => (b === 0 ? undefined : a % b),
};

function arithmetic(op: Token, left: Node, right: Node): Node {
  expectType(left, 'int', op.text);
  expectType(right, 'int', op.text);
  const apply = ARITHMETIC[op.text] as (a: number, b: number) => number | undefined;
  const evaluate: Evaluator = (counts) => {
    const a = left.evaluate(counts);
    const b = right.evaluate(counts);
    return a === undefined || b === undefined ? undefined : apply(Number(a), Number(b));
  };
  return { type: 'int', evaluate, position: left.position };
}

/**
 * Compiles a trip expression such as `consecutiveFailures > 5 || (requests >= 10 && totalFailures
 * * 2 > requests)`; throws `TripExpressionError` for syntax errors, unknown identifiers and type
 * errors, and the predicate answers false when evaluation fails (as Dapr does on a CEL error).
 */
export function compileTripExpression(text: string): TripPredicate {
  const root = new Parser(tokenize(text)).parse();
  if (root.type !== 'bool') {
    throw new TripExpressionError('the expression must be a condition (bool), not an int', 0);
  }
  return (counts) => root.evaluate(counts) === true;
}
