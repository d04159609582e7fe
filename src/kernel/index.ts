export * from './abort.js';
export * from './duration.js';
export * from './error-catalogue.js';
export * from './grpc-code.js';
export * from './logger.js';
export * from './tapr-error.js';
