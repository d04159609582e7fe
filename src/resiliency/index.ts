export * from './circuit-breaker.js';
export * from './errors.js';
export * from './policies.js';
export * from './policy-runner.js';
export * from './retry-policy.js';
export * from './trip-expression.js';
