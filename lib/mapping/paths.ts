/**
 * Dotted paths (`extension_attributes.shipping_assignments.0.shipping.method`) into plain JSON, as the
 * mapping's field rules and fee sources name Magento fields. Own properties only: a path never reaches
 * Object.prototype, whatever a flow file says.
 */

const has = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

/** Paths come from a node's configuration (fee sources, field rules): split once, not per order. */
const SPLIT = new Map<string, string[]>();
const MAX_SPLIT = 1000;

function segmentsOf(path: string): string[] {
  let segments = SPLIT.get(path);
  if (!segments) {
    segments = path.split('.');
    if (SPLIT.size < MAX_SPLIT) SPLIT.set(path, segments);
  }
  return segments;
}

/** The value at `path`, or undefined when any step is missing. */
export function getPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of segmentsOf(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!has(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

/** Sets the value at `path`, creating plain objects on the way (never replaces a non-object with one silently). */
export function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let current: Record<string, unknown> = root;
  for (const segment of segments.slice(0, -1)) {
    const next = has(current, segment) ? current[segment] : undefined;
    if (next === undefined || next === null) {
      const created: Record<string, unknown> = {};
      current[segment] = created;
      current = created;
    } else if (typeof next === 'object') {
      current = next as Record<string, unknown>;
    } else {
      throw new Error(`"${segment}" in ${path} is a ${typeof next}, not an object`);
    }
  }
  current[segments[segments.length - 1]] = value;
}

/** Path with `base_` before its last segment: where Magento keeps the base-currency twin of an amount. */
export function basePath(path: string): string {
  const i = path.lastIndexOf('.');
  return i < 0 ? `base_${path}` : `${path.slice(0, i + 1)}base_${path.slice(i + 1)}`;
}
