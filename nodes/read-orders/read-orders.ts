/**
 * `magento-read-orders`: polls Magento for orders changed since a durable cursor and emits one message
 * per order. The run (paging, cursor rules, back-pressure waits: `runOrderRead`), enrichment and re-reads
 * live in lib/orders; this adapter reads its settings, serialises runs, sends each order and tracks its
 * take-over through Node-RED's hooks, and shows progress in the status.
 */
import { IntegrationError, ValidationError } from '../../lib/errors';
import type { MagentoClient } from '../../lib/magento/types';
import {
  BusyMode, CursorStore, EnrichOptions, Handover, MagentoOrder, OrderCursor, OrderEnrichment, OrderPlace, RunLock,
  enrichOrders, listOf, magentoDateOf, orderRefOf, rereadOrder, runOrderRead, storeIdsOf,
  storeKindOf, validatePageSize, wantsEnrichment,
} from '../../lib/orders';
import { openKeyValueStore, type KeyValueStore } from '../../lib/stores';
import { failMessage, NodeMessage } from '../shared/failure';
import { watchHandover } from '../shared/handover-hooks';
import { numberField } from '../shared/settings';
import { storeDirectory } from '../shared/store-directory';

interface ReadOrdersConfig {
  id: string;
  name?: string;
  store: string;
  pageSize: number | string;
  busy: BusyMode;
  overlapSeconds: number | string;
  statuses?: string;
  storeIds?: string;
  createdFrom?: string;
  enrichInvoices?: boolean;
  enrichShipments?: boolean;
  enrichCustomer?: boolean;
  notFoundRetries: number | string;
  notFoundDelayMs: number | string;
  storeKind?: string;
  redisUrl?: string;
  maxInFlight?: number | string;
  handoverTimeout?: number | string;
}

/** Seconds a run waits without any order being taken over before it reads on anyway. */
const DEFAULT_HANDOVER_TIMEOUT_S = 60;

/** The cursor store file shared by every read-orders node; keys are per store and node. */
const CURSOR_STORE_NAME = 'magento-read-orders-cursors';

function shortCursor(c: OrderCursor | undefined): string {
  return c ? `${c.updatedAt} #${c.entityId}` : '-';
}

export = function (RED: any) {
  function ReadOrdersNode(this: any, config: ReadOrdersConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const storeNode = RED.nodes.getNode(config.store);
    const lock = new RunLock();
    const aborter = new AbortController();
    let kv: KeyValueStore | undefined;
    let setupError: IntegrationError | undefined;
    let lastCursor: OrderCursor | undefined;

    const busy: BusyMode = config.busy === 'skip' ? 'skip' : 'wait';
    let overlapSeconds = 0;
    let notFoundRetries = 3;
    let notFoundDelayMs = 2000;
    let statuses: string[] = [];
    let storeIds: number[] = [];
    let createdFrom: string | undefined;
    /** Orders sent and not yet taken over (0 = two pages: the default, lib/orders runOrderRead). */
    let maxInFlight = 0;
    let handoverTimeoutMs = DEFAULT_HANDOVER_TIMEOUT_S * 1000;
    const enrich: EnrichOptions = {
      invoices: Boolean(config.enrichInvoices), shipments: Boolean(config.enrichShipments), customer: Boolean(config.enrichCustomer),
    };
    try {
      overlapSeconds = numberField(config.overlapSeconds, 10, 'overlapSeconds', { whole: true });
      notFoundRetries = numberField(config.notFoundRetries, 3, 'notFoundRetries', { whole: true });
      notFoundDelayMs = numberField(config.notFoundDelayMs, 2000, 'notFoundDelayMs', { whole: true });
      maxInFlight = numberField(config.maxInFlight, 0, 'maxInFlight', { whole: true });
      handoverTimeoutMs = numberField(config.handoverTimeout, DEFAULT_HANDOVER_TIMEOUT_S, 'handoverTimeout', { aboveMin: true, unit: 'seconds' }) * 1000;
      statuses = listOf(config.statuses);
      storeIds = storeIdsOf(config.storeIds);
      createdFrom = config.createdFrom && config.createdFrom.trim() ? magentoDateOf(config.createdFrom.trim(), 'createdFrom') : undefined;
      const kind = storeKindOf(config);
      kv = openKeyValueStore({
        kind, name: CURSOR_STORE_NAME, directory: storeDirectory(RED, node, 'magento-read-orders', kind, CURSOR_STORE_NAME),
        redisUrl: config.redisUrl || undefined,
      });
    } catch (err) {
      setupError = err instanceof IntegrationError ? err : new IntegrationError('permanent', (err as Error).message);
      node.status({ fill: 'red', shape: 'ring', text: RED._('magento-read-orders.status.config-error') });
      node.error(RED._('magento-read-orders.errors.config', { reason: setupError.message }));
    }

    /** The store's client and settings, or a typed error naming what is missing. */
    function clientOf(): MagentoClient {
      if (setupError) throw setupError;
      if (!storeNode) throw new ValidationError('store', RED._('magento-read-orders.errors.no-store'));
      if (storeNode.configError) throw storeNode.configError;
      if (!storeNode.client) throw new ValidationError('store', RED._('magento-read-orders.errors.no-client'));
      return storeNode.client as MagentoClient;
    }

    function cursorStore(client: MagentoClient): CursorStore {
      // Keyed by the store's address, not its editable name: renaming the store-config keeps the cursor.
      const store = `${client.settings.baseUrl ?? client.settings.name}|${client.settings.storeCode ?? 'default'}`;
      return new CursorStore(kv as KeyValueStore, CursorStore.keyFor(store, node.id));
    }

    function pageSizeOf(client: MagentoClient): number {
      return validatePageSize(config.pageSize === '' || config.pageSize === undefined ? Math.min(100, client.settings.limits.maxPageSize) : config.pageSize,
        client.settings.limits.maxPageSize);
    }

    function idleStatus(text: string, fill: 'green' | 'grey' = 'green'): void {
      node.status({ fill, shape: 'dot', text });
    }

    // Show where the cursor stands as soon as the node starts.
    if (!setupError && storeNode?.client) {
      cursorStore(storeNode.client).load().then((c) => {
        lastCursor = c;
        idleStatus(c ? RED._('magento-read-orders.status.cursor', { cursor: shortCursor(c) }) : RED._('magento-read-orders.status.no-cursor'), 'grey');
      }, () => undefined);
    }

    /** Errors whose run already showed "page N failed" in the status. */
    const runFailures = new WeakSet<object>();
    const runFailed = (err: unknown): boolean => typeof err === 'object' && err !== null && runFailures.has(err);

    // Back-pressure: an order is taken over when every node wired to output 1 completed it (done()). The
    // next page is fetched only once there is room for it, so a slow flow holds the reader, not memory.
    const handover = new Handover<undefined>();
    // An error completion counts too: the node took the order (a Catch node has it now).
    const handoverHooks = watchHandover(RED, node, 'magentoReadOrders', handover);

    /** One polling (or backfill) run (lib/orders runOrderRead): this adapter sends, tracks and shows progress. */
    async function runRead(msg: NodeMessage, send: (out: unknown) => void, since: string | undefined): Promise<void> {
      const client = clientOf();
      const targets = handoverHooks.available ? handoverHooks.destinations() : [];
      // Without runtime hooks or wires nothing reports a take-over: an order counts as taken once sent.
      const tracked = targets.length > 0;
      const summary = await runOrderRead(client, cursorStore(client), tracked ? handover : undefined, {
        pageSize: pageSizeOf(client), maxInFlight, handoverTimeoutMs, overlapSeconds, since, statuses, storeIds, createdFrom, enrich, signal: aborter.signal,
      }, {
        emit(order, enrichment, place) {
          const m = orderMessage(client, order, enrichment, place);
          // Own id per order, so its completion can be told apart; one send per order, so Node-RED
          // hands each on as is instead of deep-copying every message after the first of a call.
          m._msgid = RED.util.generateId();
          if (tracked) handover.track(m._msgid as string, targets, undefined);
          send([m, null]);
        },
        sinceAhead: (from, cursor) => node.warn(RED._('magento-read-orders.warn.since-ahead', { since: from, cursor: shortCursor(cursor) })),
        started: (start) => node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-read-orders.status.reading', { cursor: shortCursor(start) }) }),
        paged(page, orders, cursor) {
          lastCursor = cursor;
          node.status({ fill: 'blue', shape: 'dot', text: RED._('magento-read-orders.status.page', { page: page.page, pages: page.pages, orders, cursor: shortCursor(cursor) }) });
        },
        waiting: (page, count, cursor) => node.status({ fill: 'blue', shape: 'ring', text: RED._('magento-read-orders.status.waiting', { page: page.page, pages: page.pages, count, cursor: shortCursor(cursor) }) }),
        stalled(count, seconds) {
          node.status({ fill: 'yellow', shape: 'ring', text: RED._('magento-read-orders.status.stalled', { count, seconds }) });
          node.warn(RED._('magento-read-orders.warn.stalled', { count, seconds }));
        },
        failed(page, cursor) {
          node.status({ fill: 'red', shape: 'dot', text: RED._('magento-read-orders.status.failed', { page, cursor: shortCursor(cursor) }) });
          msg.cursor = cursor ? { updatedAt: cursor.updatedAt, entityId: cursor.entityId } : null;
        },
      }).catch((err) => {
        if (typeof err === 'object' && err !== null) runFailures.add(err);
        throw err;
      });
      const cursorText = shortCursor(summary.cursor);
      if (summary.unconfirmed > 0) {
        node.status({ fill: 'yellow', shape: 'dot', text: RED._('magento-read-orders.status.done-unconfirmed', { orders: summary.orders, unconfirmed: summary.unconfirmed, cursor: cursorText }) });
      } else {
        idleStatus(RED._('magento-read-orders.status.done', { orders: summary.orders, cursor: cursorText }));
      }
      msg.payload = { ...summary, cursor: summary.cursor ?? null };
      msg.store = client.settings.name;
      msg.topic = 'read-orders/complete';
      send([null, msg]);
    }

    function orderMessage(client: MagentoClient, order: MagentoOrder, enrichment: OrderEnrichment | undefined, where: OrderPlace): NodeMessage {
      const m: NodeMessage = {
        topic: order.increment_id ?? String(order.entity_id),
        payload: order,
        store: client.settings.name,
        cursor: { updatedAt: order.updated_at ?? order.created_at, entityId: Number(order.entity_id), page: where.page, pages: where.pages, backfill: where.backfill },
      };
      if (enrichment) m.enrichment = enrichment;
      return m;
    }

    async function reread(msg: NodeMessage, send: (out: unknown) => void): Promise<void> {
      const ref = orderRefOf(msg as { entityId?: unknown; incrementId?: unknown });
      const client = clientOf();
      const { order, attempts } = await rereadOrder(client, ref!, { notFoundRetries, notFoundDelayMs, storeIds, signal: aborter.signal });
      msg.payload = order;
      msg.store = client.settings.name;
      if (wantsEnrichment(enrich)) {
        const enrichment = await enrichOrders(client, [order], enrich, aborter.signal);
        msg.enrichment = enrichment.get(Number(order.entity_id));
      }
      if (attempts > 1) node.log(RED._('magento-read-orders.log.found-after', { order: order.increment_id ?? order.entity_id, attempts }));
      send([msg, null]);
    }

    async function resetCursor(): Promise<void> {
      const client = clientOf();
      await cursorStore(client).reset();
      lastCursor = undefined;
      idleStatus(RED._('magento-read-orders.status.reset'), 'grey');
    }

    node.on('input', (msg: NodeMessage, send: (out: unknown) => void, done: (err?: Error) => void) => {
      const fail = (err: unknown, statusShown = false): void => {
        if (!statusShown) {
          node.status({ fill: 'red', shape: 'ring', text: RED._('magento-read-orders.status.error', { reason: (err as Error)?.message ?? String(err) }).slice(0, 80) });
        }
        failMessage(msg, err, done);
      };
      try {
        const command = msg.command;
        if (command !== undefined && command !== 'reset-cursor' && command !== 'read') {
          throw new ValidationError('msg.command', `"${String(command)}" is not a command of read-orders (use "reset-cursor" or "read")`);
        }
        if (msg.reset === true || command === 'reset-cursor') {
          lock.run(resetCursor, { skippable: false, mode: busy }).then(() => done(), fail);
          return;
        }
        if (orderRefOf(msg as { entityId?: unknown; incrementId?: unknown })) {
          // A single re-read leaves the cursor alone, so it never waits behind a long poll.
          reread(msg, send).then(() => done(), fail);
          return;
        }
        const since = msg.since === undefined || msg.since === null || msg.since === '' ? undefined : magentoDateOf(msg.since, 'msg.since');
        lock.run(() => runRead(msg, send, since), { skippable: since === undefined, mode: busy }).then((r) => {
          if (!r.ran) {
            node.status({ fill: 'yellow', shape: 'ring', text: RED._('magento-read-orders.status.skipped', { cursor: shortCursor(lastCursor) }) });
          }
          done();
        }, (err) => fail(err, runFailed(err)));
      } catch (err) {
        fail(err);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      aborter.abort();
      handoverHooks.remove();
      handover.clear();
      lock.idle().catch(() => undefined).then(async () => {
        try {
          await kv?.close();
        } catch {
          // Closing a store that failed to open has nothing to release.
        }
        done();
      });
    });
  }

  RED.nodes.registerType('magento-read-orders', ReadOrdersNode);
};
