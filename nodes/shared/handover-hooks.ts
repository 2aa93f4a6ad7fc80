/**
 * Feeds Node-RED's runtime hooks into a Handover (lib/orders/handover.ts), for nodes that must know when
 * the flow took over what they sent (read-orders' back-pressure, webhook-in's journal). A message is taken
 * over when every node wired to the first output completed it (`onComplete`), or received it, for a node
 * whose input handler takes no done() (core switch, subflow instances, old nodes). The `postReceive` hook
 * for those runs for every message of the whole runtime, so it is added only once such a node is wired.
 */
import type { Handover } from '../../lib/orders/handover';

export interface HandoverHooks {
  /** False on a runtime without hooks: nothing will report a take-over, so nothing should be tracked. */
  readonly available: boolean;
  /** The deployed nodes wired to output 1 (a message to a missing node is never completed). */
  destinations(): string[];
  /** Removes the hooks (the node's close). */
  remove(): void;
}

export interface HandoverHookOptions<T> {
  /** An error completion (a Catch node has the message now) fails the hand-over instead of completing it. */
  errorsFail?: boolean;
  /** Called with the tracked value once the last destination took a message over. */
  onTaken?: (value: T) => void;
}

interface CompleteEvent { msg?: { _msgid?: string }; error?: unknown; node?: { id?: string } }
interface ReceiveEvent { msg?: { _msgid?: string }; destination?: { id?: string } }

export function watchHandover<T>(RED: any, node: any, labelPrefix: string, handover: Handover<T>, options: HandoverHookOptions<T> = {}): HandoverHooks {
  const hooks = RED.hooks;
  const available = Boolean(hooks && typeof hooks.add === 'function');
  const label = `${labelPrefix}${String(node.id).replace(/[^A-Za-z0-9]/g, '')}`;
  const takesOnReceipt = new Set<string>();
  let receiptHooked = false;

  const taken = (result: { value: T } | undefined): void => {
    if (result) options.onTaken?.(result.value);
  };
  if (available) {
    hooks.add(`onComplete.${label}`, (ev: CompleteEvent) => {
      const id = ev?.msg?._msgid;
      const by = ev?.node?.id;
      if (!id || !by || handover.inFlight === 0) return;
      if (options.errorsFail && ev.error !== undefined && ev.error !== null) {
        handover.fail(id, by);
        return;
      }
      taken(handover.complete(id, by));
    });
  }

  function hookReceipts(): void {
    if (receiptHooked || !available || takesOnReceipt.size === 0) return;
    receiptHooked = true;
    hooks.add(`postReceive.${label}`, (ev: ReceiveEvent) => {
      const id = ev?.msg?._msgid;
      const by = ev?.destination?.id;
      if (!id || !by || handover.inFlight === 0 || !takesOnReceipt.has(by)) return;
      taken(handover.complete(id, by));
    });
  }

  return {
    available,
    destinations(): string[] {
      const wired: unknown = Array.isArray(node.wires) ? node.wires[0] : undefined;
      if (!Array.isArray(wired)) return [];
      const ids: string[] = [];
      takesOnReceipt.clear();
      for (const id of wired) {
        if (typeof id !== 'string' || ids.includes(id)) continue;
        const target = RED.nodes.getNode(id);
        if (!target) continue;
        ids.push(id);
        // Node-RED counts the input handlers declaring done (msg, send, done); with none, receipt is the take-over.
        if (target._expectedDoneCount === 0) takesOnReceipt.add(id);
      }
      hookReceipts();
      return ids;
    },
    remove(): void {
      if (!available || typeof hooks.remove !== 'function') return;
      hooks.remove(`onComplete.${label}`);
      if (receiptHooked) hooks.remove(`postReceive.${label}`);
    },
  };
}
