'use strict';
// nodes/shared/status-counts.ts: counts at most every interval, a new colour or mark at once.
const assert = require('assert');
const sinon = require('sinon');
const { throttledStatusCounts } = require('../../dist/nodes/shared/status-counts.js');

describe('throttledStatusCounts', () => {
  let clock;
  beforeEach(() => { clock = sinon.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => clock.restore());

  function setUp() {
    const shown = [];
    const state = { n: 0, fill: 'green', mark: '' };
    let texts = 0;
    const status = throttledStatusCounts(
      { status: (s) => shown.push(s) },
      () => ({ fill: state.fill, mark: state.mark }),
      () => { texts++; return `n ${state.n}`; },
      500,
    );
    return { shown, state, status, texts: () => texts };
  }

  it('shows the first counts at once, then at most once per interval with the last counts', () => {
    const { shown, state, status, texts } = setUp();
    state.n = 1; status.show();
    assert.deepStrictEqual(shown, [{ fill: 'green', shape: 'dot', text: 'n 1' }]);
    for (let i = 2; i <= 50; i++) { state.n = i; status.show(); }
    assert.strictEqual(shown.length, 1);
    assert.strictEqual(texts(), 1, 'the text is built only when drawn');
    clock.tick(500);
    assert.deepStrictEqual(shown.map((s) => s.text), ['n 1', 'n 50']);
  });

  it('a new colour or mark shows at once and replaces the pending update', () => {
    const { shown, state, status } = setUp();
    status.show();
    state.n = 2; status.show();
    state.fill = 'yellow'; state.n = 3; status.show();
    assert.deepStrictEqual(shown.map((s) => [s.fill, s.text]), [['green', 'n 0'], ['yellow', 'n 3']]);
    state.mark = 'bad-signature'; status.show();
    assert.strictEqual(shown.length, 3);
    clock.tick(1000);
    assert.strictEqual(shown.length, 3, 'the replaced update does not fire');
  });

  it('stop drops a pending update', () => {
    const { shown, state, status } = setUp();
    status.show();
    state.n = 1; status.show();
    status.stop();
    clock.tick(1000);
    assert.strictEqual(shown.length, 1);
  });
});
