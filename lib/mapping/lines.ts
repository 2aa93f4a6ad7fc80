/**
 * Which Magento order items become ERP lines. Magento stores a configurable product as two rows (the
 * configurable parent carrying name, price, tax and discount, and its simple child at price 0) and a
 * bundle as a parent plus one row per chosen option. The ERP wants one line per thing it stocks and
 * bills, never the same goods twice.
 */
import { MagentoOrderItem } from './types';

export interface LineSource {
  /** The row whose amounts (price, tax, discount, row total) and quantity the line takes. */
  item: MagentoOrderItem;
  /** Index of `item` in the order's items, for problem paths (`/items/3/price`). */
  index: number;
  /** SKU the ERP stocks. */
  sku: string;
  name: string;
  productType: string;
  /** The configurable or bundle the line belongs to, when its SKU differs from `sku`. */
  parentSku: string | null;
  /** The configurable or bundle row, for field rule templates (`{{parent.name}}`). */
  parent?: MagentoOrderItem;
  /** The simple row of a configurable, for field rule templates (`{{child.sku}}`). */
  child?: MagentoOrderItem;
}

export type BundleMode = 'auto' | 'parent' | 'children';

// Magento\Catalog\Model\Product\Type\AbstractType: CALCULATE_CHILD = 0 (dynamic price), CALCULATE_PARENT = 1.
const CALCULATE_CHILD = 0;
const CALCULATE_PARENT = 1;

function amount(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

function parentIdOf(item: MagentoOrderItem): number | undefined {
  if (item.parent_item_id !== undefined && item.parent_item_id !== null) return Number(item.parent_item_id);
  const parent = item.parent_item;
  if (parent && typeof parent === 'object' && parent.item_id !== undefined) return Number(parent.item_id);
  return undefined;
}

/**
 * `auto`: a bundle whose price Magento calculated from its children (dynamic price; the children carry
 * prices) becomes one line per child; a fixed-price bundle (children at 0) becomes one parent line. The
 * parent's `product_options.product_calculations`, when the answer carries it, decides first.
 */
export function bundleAsChildren(parent: MagentoOrderItem, children: MagentoOrderItem[], mode: BundleMode): boolean {
  if (mode === 'children') return children.length > 0;
  if (mode === 'parent' || children.length === 0) return false;
  const calc = parent.product_options?.product_calculations;
  if (calc !== undefined && calc !== null && calc !== '') {
    if (Number(calc) === CALCULATE_CHILD) return true;
    if (Number(calc) === CALCULATE_PARENT) return false;
  }
  return children.some((c) => amount(c.price) > 0 || amount(c.row_total) > 0);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : String(value);
}

/** The ERP lines of an order's items, in the order Magento lists them. */
export function selectLines(items: MagentoOrderItem[], bundles: BundleMode): LineSource[] {
  const indexById = new Map<number, number>();
  items.forEach((item, i) => {
    if (item && item.item_id !== undefined && item.item_id !== null) indexById.set(Number(item.item_id), i);
  });
  const childrenOf = new Map<number, number[]>();
  const isChild = new Set<number>();
  items.forEach((item, i) => {
    if (!item) return;
    const parentId = parentIdOf(item);
    // A child whose parent row is not in the order is sold on its own.
    if (parentId === undefined || !indexById.has(parentId)) return;
    const parentIndex = indexById.get(parentId) as number;
    if (parentIndex === i) return;
    isChild.add(i);
    const list = childrenOf.get(parentIndex) ?? [];
    list.push(i);
    childrenOf.set(parentIndex, list);
  });

  const lines: LineSource[] = [];
  const single = (item: MagentoOrderItem, index: number, parent?: MagentoOrderItem): LineSource => {
    const sku = text(item.sku);
    const parentSku = parent ? text(parent.sku) : '';
    return {
      item,
      index,
      sku,
      name: text(item.name) || sku,
      productType: text(item.product_type) || 'simple',
      parentSku: parentSku && parentSku !== sku ? parentSku : null,
      parent,
    };
  };

  items.forEach((item, i) => {
    if (!item || isChild.has(i)) return;
    const kids = (childrenOf.get(i) ?? []).map((k) => ({ item: items[k], index: k }));
    const type = text(item.product_type);
    if (kids.length === 0) {
      lines.push(single(item, i));
    } else if (type === 'configurable') {
      // The parent carries name and amounts; the child is what the ERP stocks. Magento usually stores the
      // simple's SKU on the parent row as well, so parent_sku is only set when the two differ.
      const child = kids[0].item;
      const childSku = text(child.sku) || text(item.sku);
      const parentSku = text(item.sku);
      lines.push({
        item,
        index: i,
        sku: childSku,
        name: text(item.name) || text(child.name) || childSku,
        productType: text(child.product_type) || 'simple',
        parentSku: parentSku && parentSku !== childSku ? parentSku : null,
        parent: item,
        child,
      });
    } else if (type === 'bundle') {
      if (bundleAsChildren(item, kids.map((k) => k.item), bundles)) {
        for (const kid of kids) lines.push(single(kid.item, kid.index, item));
      } else {
        lines.push(single(item, i));
      }
    } else {
      // Any other parent type with children (third-party product types): keep both, so nothing is lost;
      // the totals check says so if that bills something twice.
      lines.push(single(item, i));
      for (const kid of kids) lines.push(single(kid.item, kid.index, item));
    }
  });
  return lines;
}
