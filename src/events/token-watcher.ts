import type { Viewer } from '../auth/viewer.js';

export interface Watched {
  tokenInvalid(): void;
}

interface WatchedToken {
  expiresAt: number;
  streams: Set<Watched>;
  expiry: NodeJS.Timeout;
  checking: boolean;
}

/**
 * Every stream must end once its token expires, is revoked or its client is disabled. Thousands
 * of streams usually share a few tokens, so instead of two timers per stream, one interval
 * re-checks each distinct token once and one timer per token ends its streams at expiry.
 */
export class TokenWatcher {
  private readonly tokens = new Map<string, WatchedToken>();
  private interval: NodeJS.Timeout | undefined;

  constructor(
    private readonly stillValid: (accessToken: string) => Promise<boolean>,
    private readonly checkIntervalMs: number,
  ) {}

  /** How many distinct tokens are watched. */
  get size(): number {
    return this.tokens.size;
  }

  watch(viewer: Pick<Viewer, 'accessToken' | 'tokenExpiresAt'>, stream: Watched): () => void {
    const { accessToken } = viewer;
    let token = this.tokens.get(accessToken);
    if (!token) {
      const expiresAt = viewer.tokenExpiresAt.getTime();
      token = { expiresAt, streams: new Set(), expiry: this.expiryTimer(accessToken, expiresAt), checking: false };
      this.tokens.set(accessToken, token);
      if (!this.interval) {
        this.interval = setInterval(() => this.checkAll(), this.checkIntervalMs);
        this.interval.unref();
      }
    }
    token.streams.add(stream);
    const watched = token;
    return () => {
      watched.streams.delete(stream);
      if (watched.streams.size === 0 && this.tokens.get(accessToken) === watched) this.forget(accessToken, watched);
    };
  }

  private expiryTimer(accessToken: string, expiresAt: number): NodeJS.Timeout {
    // A timer fires at most 2^31-1 ms ahead; a token valid longer is looked at again then.
    const timer = setTimeout(() => this.expire(accessToken), Math.max(0, Math.min(expiresAt - Date.now() + 50, 2 ** 31 - 1)));
    timer.unref();
    return timer;
  }

  private expire(accessToken: string): void {
    const token = this.tokens.get(accessToken);
    if (!token) return;
    if (token.expiresAt <= Date.now()) this.invalidate(accessToken, token);
    else token.expiry = this.expiryTimer(accessToken, token.expiresAt);
  }

  private checkAll(): void {
    for (const [accessToken, token] of this.tokens) {
      if (token.expiresAt <= Date.now()) {
        this.invalidate(accessToken, token);
        continue;
      }
      // A check slower than the interval is not asked again meanwhile.
      if (token.checking) continue;
      token.checking = true;
      void this.stillValid(accessToken)
        .catch(() => false)
        .then((valid) => {
          token.checking = false;
          if (!valid && this.tokens.get(accessToken) === token) this.invalidate(accessToken, token);
        });
    }
  }

  private invalidate(accessToken: string, token: WatchedToken): void {
    this.forget(accessToken, token);
    for (const stream of [...token.streams]) stream.tokenInvalid();
  }

  private forget(accessToken: string, token: WatchedToken): void {
    clearTimeout(token.expiry);
    this.tokens.delete(accessToken);
    if (this.tokens.size === 0 && this.interval) {
      clearInterval(this.interval);
      this.interval = undefined;
    }
  }
}
