/** Magento writes every date as UTC `YYYY-MM-DD HH:MM:SS`. */

export function magentoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A filter value on a date column as MySQL would compare it: `2024-05-01` means midnight, ISO `T`/`Z`
 * and fractions are tolerated. Anything else is compared as given.
 */
export function normalizeDateValue(value: string): string {
  const v = value.trim();
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?(Z|[+-]00:?00)?$/.exec(v);
  if (!m) return v;
  return `${m[1]} ${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}`;
}
