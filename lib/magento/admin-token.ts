/**
 * Admin token cache: one `POST /V1/integration/admin/token` shared by every concurrent caller, the
 * token kept until Magento refuses it (or it is older than its lifetime), then fetched again once.
 */

/** Magento's default admin token lifetime is 4 h; refresh a little before. */
export const DEFAULT_ADMIN_TOKEN_TTL_MS = 4 * 60 * 60 * 1000 - 5 * 60 * 1000;

export class AdminTokenCache {
  private token: string | undefined;
  private fetchedAt = 0;
  private inflight: Promise<string> | undefined;

  constructor(private readonly fetchToken: () => Promise<string>, private readonly ttlMs = DEFAULT_ADMIN_TOKEN_TTL_MS) {}

  /** The cached token, or one fetch shared by all callers waiting right now. */
  get(): Promise<string> {
    if (this.token !== undefined && Date.now() - this.fetchedAt < this.ttlMs) return Promise.resolve(this.token);
    if (!this.inflight) {
      this.inflight = this.fetchToken().then(
        (token) => {
          this.token = token;
          this.fetchedAt = Date.now();
          this.inflight = undefined;
          return token;
        },
        (err) => {
          this.inflight = undefined;
          throw err;
        },
      );
    }
    return this.inflight;
  }

  /** Drops `token` if it is still the cached one (a caller saw a 401 with it). */
  invalidate(token: string | undefined): void {
    if (token !== undefined && this.token === token) {
      this.token = undefined;
      this.fetchedAt = 0;
    }
  }

  clear(): void {
    this.token = undefined;
    this.fetchedAt = 0;
  }
}
