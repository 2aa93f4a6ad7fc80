export {
  classifyErpAnswer, createErpClient, erpOperationOf, parseErpBaseUrl, ERP_METHODS, ERP_QUEUE_TIMEOUT, ERP_CLIENT_CLOSED, QUEUE_TIMEOUT_FACTOR,
  type ErpAnswer, type ErpCallRecord, type ErpClient, type ErpClientOptions, type ErpExchange, type ErpMethod,
  type ErpRequest, type ErpResult, type ErpVerdict,
} from './request';
export { checkErpPath, checkIdempotencyKey, erpSettingsFromConfig, parsePassStatuses, type ErpRequestForm, type ErpRequestSettings } from './settings';
export { messageProperty, requestFromMessage, type ErpMessageSettings } from './message';
