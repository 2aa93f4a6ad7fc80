/**
 * Errors the way Magento's Webapi ErrorProcessor renders them: the untranslated message with `%1` or
 * `%name` placeholders and the values apart in `parameters` (a list for positional, an object for named),
 * plus `errors` for aggregated validation failures.
 */
export type Parameters = Array<string | number> | Record<string, string | number>;

export interface ErrorBody {
  message: string;
  parameters?: Parameters;
  errors?: Array<{ message: string; parameters?: Parameters }>;
}

export class WebapiError extends Error {
  constructor(
    readonly status: number,
    readonly rawMessage: string,
    readonly parameters?: Parameters,
    readonly errors?: Array<{ message: string; parameters?: Parameters }>,
    readonly headers?: Record<string, string>,
  ) {
    super(fillMessage(rawMessage, parameters));
    this.name = 'WebapiError';
  }

  body(): ErrorBody {
    const out: ErrorBody = { message: this.rawMessage };
    if (this.parameters !== undefined) out.parameters = this.parameters;
    if (this.errors) out.errors = this.errors;
    return out;
  }
}

export function fillMessage(message: string, parameters?: Parameters): string {
  if (!parameters) return message;
  if (Array.isArray(parameters)) return message.replace(/%(\d+)/g, (m, n) => (parameters[Number(n) - 1] !== undefined ? String(parameters[Number(n) - 1]) : m));
  return message.replace(/%([A-Za-z_]\w*)/g, (m, k) => (parameters[k] !== undefined ? String(parameters[k]) : m));
}

// The messages below are Magento's own wording (Magento_Sales, Magento_Catalog, Magento_Webapi, ...).

export const notAuthorized = (resources: string): WebapiError =>
  new WebapiError(401, "The consumer isn't authorized to access %resources.", { resources });

export const noRoute = (): WebapiError => new WebapiError(404, 'Request does not match any route.');

export const entityNotFound = (): WebapiError =>
  new WebapiError(404, "The entity that was requested doesn't exist. Verify the entity and try again.");

export const productNotFound = (): WebapiError =>
  new WebapiError(404, "The product that was requested doesn't exist. Verify the product and try again.");

export const noSuchEntity = (fieldName: string, fieldValue: string | number): WebapiError =>
  new WebapiError(404, 'No such entity with %fieldName = %fieldValue', { fieldName, fieldValue });

export const tooManyItems = (type: string, max: number): WebapiError =>
  new WebapiError(400, 'Maximum items of type "%type" is %max', { type, max });

export const pageSizeTooBig = (max: number): WebapiError =>
  new WebapiError(400, 'Maximum SearchCriteria pageSize is %max', { max });

export const requiredField = (fieldName: string): WebapiError =>
  new WebapiError(400, '"%fieldName" is required. Enter and try again.', { fieldName });

export const invalidField = (fieldName: string, fieldValue: string | number): WebapiError =>
  new WebapiError(400, 'Invalid value of "%value" provided for the %fieldName field.', { fieldName, value: fieldValue });

/** Production-mode answer to a failure Magento did not anticipate (e.g. an unknown column in a filter). */
export const internalError = (reportId: string): WebapiError =>
  new WebapiError(500, 'Internal Error. Details are available in Magento log file. Report ID: %1', [reportId]);
