/**
 * A node's running counts in its status, at most every `intervalMs` (the last ones always shown): one
 * status event and one translation per message would cost more than the work the node does. A change
 * of colour (the first failure) or of `mark` (e.g. the reason of the last rejection) shows at once.
 */
export interface StatusCounts {
  /** The counts changed: show them now or at the end of the interval. */
  show(): void;
  /** Drops a pending update (the node's close). */
  stop(): void;
}

export const STATUS_INTERVAL_MS = 500;

/** What must show at once when it changes: the colour and, optionally, a mark (e.g. the last rejection's reason). */
export interface StatusLook {
  fill: 'green' | 'yellow' | 'red';
  mark?: string;
}

/**
 * `look` is asked at every `show()` and must be cheap; `text` (a translation) only when the status is drawn.
 */
export function throttledStatusCounts(
  node: { status(s: unknown): void },
  look: () => StatusLook,
  text: () => string,
  intervalMs = STATUS_INTERVAL_MS,
): StatusCounts {
  let shownAt = 0;
  let shown = '';
  let pending: ReturnType<typeof setTimeout> | undefined;
  const urgent = (l: StatusLook): string => `${l.fill}|${l.mark ?? ''}`;
  const draw = (): void => {
    if (pending) clearTimeout(pending);
    pending = undefined;
    shownAt = Date.now();
    const now = look();
    shown = urgent(now);
    node.status({ fill: now.fill, shape: 'dot', text: text() });
  };
  return {
    show(): void {
      // A colour or mark change cancels a pending update and shows now; counts alone wait for the interval.
      if (shown !== urgent(look())) return draw();
      if (pending) return;
      const wait = shownAt + intervalMs - Date.now();
      if (wait <= 0) draw();
      else pending = setTimeout(draw, wait);
    },
    stop(): void {
      if (pending) clearTimeout(pending);
      pending = undefined;
    },
  };
}
