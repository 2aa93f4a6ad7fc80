/** The store structure: websites, store views, currencies. Fixed (not seeded) so tests can name them. */

export interface StoreView {
  id: number;
  code: string;
  name: string;
  website_id: number;
  store_group_id: number;
  is_active: number;
  locale: string;
  base_currency_code: string;
  default_display_currency_code: string;
  timezone: string;
  /** base → display (order) currency rate used for seeded orders. */
  rate: number;
}

export const STORE_VIEWS: readonly StoreView[] = [
  { id: 1, code: 'default', name: 'Default Store View', website_id: 1, store_group_id: 1, is_active: 1, locale: 'en_US', base_currency_code: 'USD', default_display_currency_code: 'USD', timezone: 'America/Chicago', rate: 1 },
  { id: 2, code: 'fr', name: 'French Store View', website_id: 1, store_group_id: 1, is_active: 1, locale: 'fr_FR', base_currency_code: 'USD', default_display_currency_code: 'EUR', timezone: 'Europe/Paris', rate: 0.92 },
  { id: 3, code: 'de', name: 'Deutsch', website_id: 2, store_group_id: 2, is_active: 1, locale: 'de_DE', base_currency_code: 'EUR', default_display_currency_code: 'EUR', timezone: 'Europe/Berlin', rate: 1 },
];

export const WEBSITES = [
  { id: 0, code: 'admin', name: 'Admin', default_group_id: 0 },
  { id: 1, code: 'base', name: 'Main Website', default_group_id: 1 },
  { id: 2, code: 'eu', name: 'EU Website', default_group_id: 2 },
];

export function storeByCode(code: string): StoreView | undefined {
  return STORE_VIEWS.find((s) => s.code === code);
}

export function storeById(id: number): StoreView | undefined {
  return STORE_VIEWS.find((s) => s.id === id);
}

/** Store ids Magento knows, the admin store 0 included. */
export function storeExists(id: number): boolean {
  return id === 0 || STORE_VIEWS.some((s) => s.id === id);
}

export function websiteExists(id: number): boolean {
  return WEBSITES.some((w) => w.id === id);
}

/** `GET /V1/store/storeViews`: every store, admin included. */
export function storeViewsBody(): unknown[] {
  return [
    { id: 0, code: 'admin', name: 'Admin', website_id: 0, store_group_id: 0, is_active: 1 },
    ...STORE_VIEWS.map((s) => ({ id: s.id, code: s.code, name: s.name, website_id: s.website_id, store_group_id: s.store_group_id, is_active: s.is_active })),
  ];
}

/** `GET /V1/store/storeConfigs`: the store views without admin, with their URLs. */
export function storeConfigsBody(baseUrl: string): unknown[] {
  const base = baseUrl.replace(/\/?$/, '/');
  return STORE_VIEWS.map((s) => ({
    id: s.id,
    code: s.code,
    website_id: s.website_id,
    locale: s.locale,
    base_currency_code: s.base_currency_code,
    default_display_currency_code: s.default_display_currency_code,
    timezone: s.timezone,
    weight_unit: s.website_id === 1 ? 'lbs' : 'kgs',
    base_url: base,
    base_link_url: base,
    base_static_url: `${base}static/`,
    base_media_url: `${base}media/`,
    secure_base_url: base,
    secure_base_link_url: base,
    secure_base_static_url: `${base}static/`,
    secure_base_media_url: `${base}media/`,
  }));
}
