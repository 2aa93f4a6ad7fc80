/**
 * Preloaded (`node --require`) into the Node-RED process the launcher spawns. The launcher holds an IPC
 * channel to it; when that channel closes — the launcher exited, even killed with SIGKILL where it could not
 * stop its children — Node-RED stops itself instead of living on as an orphan holding the port.
 */
if (typeof process.send === 'function') {
  // The channel must not keep Node-RED alive on its own, only tell it when the launcher is gone.
  (process as NodeJS.Process & { channel?: { unref(): void } }).channel?.unref();
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
  });
}
