export { AuditLog, attachAuditLog, openAuditLog, type AuditOptions, type AuditQuery, type AuditRow } from './audit-log';
