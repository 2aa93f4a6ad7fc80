'use strict';
// A stand-in `magento-store-config` node whose client is a FakeMagento chosen by the test, so node tests
// of read-orders can script pages, faults and timing without the sandbox.
let current;

function fakeStoreConfig(RED) {
  function FakeStoreConfig(config) {
    RED.nodes.createNode(this, config);
    Object.defineProperty(this, 'client', { value: current, enumerable: false });
    Object.defineProperty(this, 'settings', { value: current && current.settings, enumerable: false });
  }
  RED.nodes.registerType('magento-store-config', FakeStoreConfig);
}

fakeStoreConfig.use = (client) => { current = client; };

module.exports = fakeStoreConfig;
