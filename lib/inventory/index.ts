export * from './types';
export * from './validate';
export * from './catalog';
export * from './push';
