export * from './types';
export * from './validate';
export * from './failures';
export * from './push';
