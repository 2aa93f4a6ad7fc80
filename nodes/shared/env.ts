/**
 * How a node reads an environment variable the way Node-RED does for `${NAME}`: flow and global env of the
 * node's flow first (RED.util.getSetting), then the process environment.
 */
export function envLookup(RED: any, node: unknown): (name: string) => unknown {
  return (name) => (typeof RED.util?.getSetting === 'function' ? RED.util.getSetting(node, name) : process.env[name]);
}
