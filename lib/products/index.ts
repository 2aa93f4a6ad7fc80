/** ERP → Magento products: create new ones disabled, update only the ERP's core fields, idempotent by SKU. */
export * from './types';
export * from './validate';
export * from './push-product';
