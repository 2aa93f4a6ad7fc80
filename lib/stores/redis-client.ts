/**
 * One ioredis connection per Redis URL, shared by every store of the process (reference counted).
 * A Redis that is down fails commands after a few tries instead of queueing them forever, so a gate
 * answers with an error (the message goes to its error path) rather than hanging.
 */
import Redis from 'ioredis';
import { ValidationError } from '../errors';

interface Shared { client: Redis; refs: number }

const open = new Map<string, Shared>();

export const DEFAULT_KEY_PREFIX = 'magento-erp:';

export function acquireRedis(url: string | undefined): Redis {
  if (!url) throw new ValidationError('redisUrl', 'a Redis URL is needed for a Redis store, e.g. redis://127.0.0.1:6379');
  if (!/^rediss?:\/\//.test(url)) throw new ValidationError('redisUrl', 'must start with redis:// or rediss://');
  const shared = open.get(url);
  if (shared) {
    shared.refs++;
    return shared.client;
  }
  const client = new Redis(url, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  // Without a listener ioredis prints every reconnect failure; the commands themselves report the error.
  client.on('error', () => undefined);
  open.set(url, { client, refs: 1 });
  return client;
}

export async function releaseRedis(url: string): Promise<void> {
  const shared = open.get(url);
  if (!shared) return;
  shared.refs--;
  if (shared.refs <= 0) {
    open.delete(url);
    try {
      await shared.client.quit();
    } catch {
      shared.client.disconnect();
    }
  }
}
