/** Generic batching helpers shared by every ERP → Magento push (stock, prices, shipments, products). */
export * from './chunk';
export * from './limits';
export * from './coalescer';
export * from './deliver';
export * from './timestamps';
export * from './pipeline';
export * from './bulk';
export * from './result';
export * from './tickets';
export * from './message-flow';
export * from './pusher';
