/**
 * Where a node opens a store of its own: `<userDir>/magento-erp/`, with the file an older version kept in
 * the user directory itself moved there on first use (lib/stores/config.ts storeDirectoryFor). The node's
 * catalog says so in the log: `<type>.log.store-moved`, `<type>.warn.store-not-moved`.
 */
import { stateDirectory, storeDirectoryFor } from '../../lib/stores/config';

export function storeDirectory(RED: any, node: any, type: string, kind: string, name: string): string {
  const userDir: string | undefined = RED.settings?.userDir;
  if (kind !== 'sqlite') return stateDirectory(userDir);
  const where = storeDirectoryFor(userDir, name);
  const file = `${name}.sqlite`;
  if (where.moved) node.log(RED._(`${type}.log.store-moved`, { file, directory: where.directory }));
  if (where.notMoved) node.warn(RED._(`${type}.warn.store-not-moved`, { file, directory: where.directory, reason: where.notMoved }));
  return where.directory;
}
