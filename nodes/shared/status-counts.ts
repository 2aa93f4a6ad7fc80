/**
 * A node's running counts in its status, at most every `intervalMs` (the last ones always shown): one
 * status event and one translation per message would cost more than the work the node does. A change
 * of colour (the first failure) shows at once.
 */
export interface StatusCounts {
  /** The counts changed: show them now or at the end of the interval. */
  show(): void;
  /** Drops a pending update (the node's close). */
  stop(): void;
}

export const STATUS_INTERVAL_MS = 500;

export function throttledStatusCounts(
  node: { status(s: unknown): void },
  render: () => { fill: 'green' | 'yellow'; text: string },
  intervalMs = STATUS_INTERVAL_MS,
): StatusCounts {
  let shownAt = 0;
  let shownFill = '';
  let pending: ReturnType<typeof setTimeout> | undefined;
  const draw = (): void => {
    pending = undefined;
    shownAt = Date.now();
    const { fill, text } = render();
    shownFill = fill;
    node.status({ fill, shape: 'dot', text });
  };
  return {
    show(): void {
      if (pending) return;
      const wait = shownAt + intervalMs - Date.now();
      if (wait <= 0 || shownFill !== render().fill) draw();
      else pending = setTimeout(draw, wait);
    },
    stop(): void {
      if (pending) clearTimeout(pending);
      pending = undefined;
    },
  };
}
