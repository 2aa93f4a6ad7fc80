/**
 * The pack's core for use outside Node-RED (scripts, other runtimes, tests): the same modules the nodes
 * adapt. Grouped by area so names stay short and never collide.
 */
export * from './errors';
export * from './magento/types';
export { createMagentoClient, encodePathSegment } from './magento/client';
export { MagentoError } from './magento/errors';
export { searchCriteria, SearchCriteriaBuilder, toQuery, fromQuery } from './magento/search-criteria';
export { signRequest, verifySignature } from './magento/oauth1';
export { validateSchema, assertValid } from './schemas';
export * as mapping from './mapping';
export * as orders from './orders';
export * as inventory from './inventory';
export * as prices from './prices';
export * as fulfilment from './fulfilment';
export * as products from './products';
export * as stores from './stores';
export * as audit from './audit';
export * as erp from './erp';
