import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BreakerCounts,
  compileTripExpression,
  isTripExpressionError,
} from '../../../src/resiliency/trip-expression.js';

function counts(values: Partial<BreakerCounts> = {}): BreakerCounts {
  return {
    requests: 0,
    totalSuccesses: 0,
    totalFailures: 0,
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
    ...values,
  };
}

function compileError(text: string): { message: string; position: number } {
  try {
    compileTripExpression(text);
  } catch (error) {
    assert.ok(isTripExpressionError(error), `expected a TripExpressionError for ${text}`);
    return { message: error.message, position: error.position };
  }
  assert.fail(`"${text}" compiled`);
}

describe('trip expression', () => {
  it('evaluates Dapr’s default `consecutiveFailures > 5`', () => {
    const trip = compileTripExpression('consecutiveFailures > 5');
    assert.equal(trip(counts({ consecutiveFailures: 5 })), false);
    assert.equal(trip(counts({ consecutiveFailures: 6 })), true);
  });

  it('supports every comparison operator', () => {
    const cases: [string, number, boolean][] = [
      ['totalFailures >= 3', 3, true],
      ['totalFailures >= 3', 2, false],
      ['totalFailures < 3', 2, true],
      ['totalFailures <= 3', 3, true],
      ['totalFailures == 3', 3, true],
      ['totalFailures != 3', 3, false],
      ['3 < totalFailures', 4, true],
    ];
    for (const [text, failures, expected] of cases) {
      assert.equal(
        compileTripExpression(text)(counts({ totalFailures: failures })),
        expected,
        text,
      );
    }
  });

  it('combines with && and || at CEL precedence, and honours parentheses', () => {
    const trip = compileTripExpression(
      'consecutiveFailures > 5 || requests >= 10 && totalFailures * 2 > requests',
    );
    assert.equal(trip(counts({ consecutiveFailures: 6 })), true);
    assert.equal(trip(counts({ requests: 10, totalFailures: 6 })), true);
    assert.equal(trip(counts({ requests: 10, totalFailures: 5 })), false);
    assert.equal(trip(counts({ requests: 4, totalFailures: 4 })), false);
    const grouped = compileTripExpression(
      '(requests > 1 || totalFailures > 1) && consecutiveFailures > 0',
    );
    assert.equal(grouped(counts({ requests: 2 })), false);
    assert.equal(grouped(counts({ requests: 2, consecutiveFailures: 1 })), true);
  });

  it('reads all five gobreaker counts, negation and arithmetic', () => {
    const trip = compileTripExpression(
      '!(totalSuccesses > 0) && consecutiveSuccesses == 0 && requests - totalFailures == 0 && -1 < 0',
    );
    assert.equal(trip(counts({ requests: 3, totalFailures: 3 })), true);
    assert.equal(trip(counts({ requests: 3, totalFailures: 2, totalSuccesses: 1 })), false);
    assert.equal(compileTripExpression('requests / 2 == 2')(counts({ requests: 5 })), true);
    assert.equal(compileTripExpression('requests % 2 == 1')(counts({ requests: 5 })), true);
  });

  it('answers false on an evaluation error (division by zero), unless && / || decide', () => {
    assert.equal(compileTripExpression('totalFailures / requests > 0')(counts()), false);
    const absorbed = compileTripExpression('totalFailures / requests > 0 || true');
    assert.equal(absorbed(counts()), true);
    const absorbedLeft = compileTripExpression('true || totalFailures / requests > 0');
    assert.equal(absorbedLeft(counts()), true);
  });

  it('rejects unknown identifiers, naming the known ones', () => {
    const error = compileError('consecutiveFailure > 5');
    assert.match(error.message, /unknown identifier "consecutiveFailure"/);
    assert.match(error.message, /consecutiveFailures/);
    assert.equal(error.position, 0);
  });

  it('rejects syntax errors with their position', () => {
    assert.equal(compileError('consecutiveFailures >').position, 21);
    assert.match(compileError('(requests > 1').message, /missing "\)"/);
    assert.match(compileError('requests > 1)').message, /unexpected "\)"/);
    assert.match(compileError('requests > 1 & true').message, /unexpected character "&"/);
    assert.match(compileError('requests > 1.5').message, /integer literals/);
    assert.match(compileError('requests > "5"').message, /unexpected character/);
    assert.match(compileError('').message, /unexpected end/);
  });

  it('rejects type errors: non-bool results, bool arithmetic, mixed comparisons', () => {
    assert.match(compileError('consecutiveFailures').message, /must be a condition/);
    assert.match(compileError('requests > 1 && 5').message, /"&&" needs bool operands, got int/);
    assert.match(compileError('true > 1').message, /">" needs int operands/);
    assert.match(compileError('requests == true').message, /compares int with bool/);
    assert.match(compileError('requests > 1 > 0').message, /needs int operands, got bool/);
    assert.match(compileError('!requests').message, /"!" needs bool operands/);
  });
});
