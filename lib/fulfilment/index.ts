/** ERP → Magento fulfilment: shipments (with tracks and invoices) and order status/comment updates. */
export * from './types';
export * from './validate';
export * from './plan';
export * from './marker';
export * from './order-lookup';
export * from './keyed-lock';
export * from './push-shipment';
export * from './order-update';
