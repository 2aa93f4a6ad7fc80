/**
 * What the demo ERP knows about products before any order arrives. The launcher hands it the Magento
 * sandbox's catalogue so stock and prices emitted toward the integration name SKUs that exist in the
 * store; on its own the ERP starts from a small built-in catalogue (with the awkward SKUs real ERPs have:
 * slashes and spaces).
 */
import { SeededRandom } from './random';

export interface CatalogItem {
  sku: string;
  name: string;
  price: number;
  /** Opening stock per MSI source code. */
  stock?: Record<string, number>;
  weight?: number;
}

export const DEFAULT_SOURCES: readonly string[] = ['default'];

const BUILT_IN: ReadonlyArray<Omit<CatalogItem, 'stock'>> = [
  { sku: '24-MB01', name: 'Joust Duffle Bag', price: 34, weight: 1 },
  { sku: '24-MB04', name: 'Strive Shoulder Pack', price: 32, weight: 1 },
  { sku: '24-UG06', name: 'Affirm Water Bottle', price: 7, weight: 0.5 },
  { sku: '24-WG01', name: 'Bolo Sport Watch', price: 49, weight: 0.2 },
  { sku: 'MH01-XS-Black', name: 'Chaz Kangeroo Hoodie-XS-Black', price: 52, weight: 1 },
  { sku: 'MH01-S-Black', name: 'Chaz Kangeroo Hoodie-S-Black', price: 52, weight: 1 },
  { sku: 'MH01-M-Orange', name: 'Chaz Kangeroo Hoodie-M-Orange', price: 52, weight: 1 },
  { sku: 'WT09/XS/Purple', name: 'Breathe-Easy Tank XS Purple', price: 34, weight: 0.3 },
  { sku: 'YOGA MAT 183', name: 'Sprite Yoga Mat 183 cm', price: 21, weight: 1.2 },
  { sku: 'GC-100 EUR', name: 'Gift Card 100', price: 100 },
];

/** The built-in catalogue with opening stock drawn from the seed. */
export function builtInCatalog(seed: number, sources: readonly string[] = DEFAULT_SOURCES): CatalogItem[] {
  const random = new SeededRandom(seed);
  return BUILT_IN.map((item) => ({
    ...item,
    stock: Object.fromEntries(sources.map((source) => [source, random.int(0, 120)])),
  }));
}

const ADJECTIVES = ['Aero', 'Summit', 'Harbor', 'Nimbus', 'Quartz', 'Cedar', 'Ember', 'Polar'];
const NOUNS = ['Daypack', 'Rain Jacket', 'Trail Runner', 'Thermos', 'Yoga Block', 'Headlamp', 'Beanie', 'Wallet'];

/** A new product as the ERP would introduce it; `n` keeps SKUs unique across calls. */
export function newProduct(random: SeededRandom, seed: number, n: number): Required<Omit<CatalogItem, 'stock'>> & {
  short_description: string;
  description: string;
  qty: number;
} {
  const name = `${random.pick(ADJECTIVES)} ${random.pick(NOUNS)}`;
  const price = Math.round(random.int(900, 12900)) / 100;
  return {
    sku: `ERP-${seed}-${String(n).padStart(4, '0')}`,
    name,
    price,
    weight: random.int(1, 40) / 10,
    short_description: `${name}, introduced by the demo ERP.`,
    description: `<p>${name}. Created in the demo ERP and pushed to Magento by the integration.</p>`,
    qty: random.int(5, 100),
  };
}
