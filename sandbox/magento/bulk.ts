/**
 * Magento's asynchronous web API: `/async/V1/...` and `/async/bulk/V1/...` accept the request, answer
 * 202 with a `bulk_uuid`, and a queue consumer performs each operation later. The consumer here can be
 * stopped, which is how a store with "consumers not running" looks: operations stay open (status 4).
 */
import { createHash, randomUUID } from 'crypto';
import { magentoDate } from './dates';
import { WebapiError } from './webapi-error';

/** Magento_AsynchronousOperations statuses. */
export const STATUS = { COMPLETE: 1, RETRIABLY_FAILED: 2, NOT_RETRIABLY_FAILED: 3, OPEN: 4, REJECTED: 5 } as const;

export interface Operation {
  id: number;
  bulk_uuid: string;
  topic_name: string;
  serialized_data: string;
  result_serialized_data: string | null;
  status: number;
  result_message: string | null;
  error_code: number | null;
  run?: () => unknown;
}

interface Bulk {
  uuid: string;
  description: string;
  start_time: string;
  user_type: number;
  operations: Operation[];
}

export class BulkQueue {
  private readonly bulks = new Map<string, Bulk>();
  private queue: Operation[] = [];
  private scheduled = false;
  running = true;

  constructor(private readonly now: () => number = Date.now) {}

  /** Accepts a bulk; items that failed input validation are `rejected` and never queued. */
  submit(topic: string, items: Array<{ body: unknown; run?: () => unknown; error?: WebapiError }>, userType: number): Record<string, unknown> {
    const uuid = randomUUID();
    const bulk: Bulk = { uuid, description: `Topic ${topic}`, start_time: magentoDate(this.now()), user_type: userType, operations: [] };
    const requestItems: Array<Record<string, unknown>> = [];
    let errors = false;
    items.forEach((item, id) => {
      const data = JSON.stringify(item.body);
      const dataHash = createHash('sha256').update(data).digest('hex');
      if (item.error) {
        errors = true;
        requestItems.push({ id, data_hash: dataHash, status: 'rejected', error_message: item.error.message, error_code: 0 });
        bulk.operations.push({ id, bulk_uuid: uuid, topic_name: topic, serialized_data: data, result_serialized_data: null, status: STATUS.REJECTED, result_message: item.error.message, error_code: 0 });
        return;
      }
      const op: Operation = { id, bulk_uuid: uuid, topic_name: topic, serialized_data: data, result_serialized_data: null, status: STATUS.OPEN, result_message: null, error_code: null, run: item.run };
      bulk.operations.push(op);
      this.queue.push(op);
      requestItems.push({ id, data_hash: dataHash, status: 'accepted' });
    });
    this.bulks.set(uuid, bulk);
    this.schedule();
    return { bulk_uuid: uuid, request_items: requestItems, errors };
  }

  setRunning(on: boolean): void {
    this.running = on;
    if (on) this.schedule();
  }

  /** Resolves when the consumer has nothing left (immediately when it is stopped). */
  async drain(): Promise<void> {
    while (this.running && this.queue.length) await new Promise((r) => setImmediate(r));
  }

  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.bulks.clear();
    this.queue = [];
  }

  private schedule(): void {
    if (this.scheduled || !this.running || !this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // A batch per tick, so a 5000-operation bulk does not block the HTTP server.
      for (let n = 0; n < 200 && this.running && this.queue.length; n++) this.perform(this.queue.shift()!);
      this.schedule();
    });
  }

  private perform(op: Operation): void {
    try {
      const result = op.run ? op.run() : null;
      op.status = STATUS.COMPLETE;
      op.result_serialized_data = JSON.stringify(result ?? null);
    } catch (err) {
      const e = err as WebapiError;
      op.status = e instanceof WebapiError && e.status >= 500 ? STATUS.RETRIABLY_FAILED : STATUS.NOT_RETRIABLY_FAILED;
      op.result_message = e.message;
      op.error_code = e instanceof WebapiError ? 0 : 0;
    }
    delete op.run;
  }

  private find(uuid: string): Bulk {
    const b = this.bulks.get(uuid);
    if (!b) throw new WebapiError(404, 'Bulk uuid %bulkUuid not exist', { bulkUuid: uuid });
    return b;
  }

  detailedStatus(uuid: string): Record<string, unknown> {
    const b = this.find(uuid);
    return {
      operations_list: b.operations.map(({ run: _run, ...o }) => o),
      user_type: b.user_type, bulk_id: b.uuid, description: b.description, start_time: b.start_time, operation_count: b.operations.length,
    };
  }

  shortStatus(uuid: string): Record<string, unknown> {
    const b = this.find(uuid);
    return {
      operations_list: b.operations.map((o) => ({ id: o.id, status: o.status, result_message: o.result_message, error_code: o.error_code })),
      user_type: b.user_type, bulk_id: b.uuid, description: b.description, start_time: b.start_time, operation_count: b.operations.length,
    };
  }

  operationStatus(uuid: string, status: number): number {
    return this.find(uuid).operations.filter((o) => o.status === status).length;
  }
}
