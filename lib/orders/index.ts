/** Orders Magento → ERP: the polling reader (cursor, keyset paging, enrichment) and webhook intake. */
export * from './types';
export * from './cursor';
export * from './reader';
export * from './enrich';
export * from './reread';
export * from './run-lock';
export * from './webhook';
export * from './raw-body';
export * from './webhook-intake';
export * from './webhook-listener';
export * from './store-options';
export * from './handover';
export * from './order-run';
