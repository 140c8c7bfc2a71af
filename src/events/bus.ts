import { EventEmitter } from 'node:events';

/**
 * What is published when a transaction that wrote order events has committed: enough to route
 * it, no personal data. It carries no sequence: sequences are handed out during the commit.
 */
export interface OrderEventNotice {
  orderId: string;
  refId: string;
  /** The service provider that placed the order. */
  clientId: string;
  issuer: string;
}

/** Something other processes must forget at once: a revoked token, a disabled client. */
export interface Invalidation {
  kind: 'token' | 'client';
  id: string;
}

/**
 * The one pub/sub module of the service. Notices are published only after their transaction
 * committed; subscribers read the events themselves from the database, so a notice is a wake-up
 * call and a lost or reordered one cannot make a stream skip an event.
 */
export interface EventBus {
  publish(notices: readonly OrderEventNotice[]): void;
  subscribe(listener: (notice: OrderEventNotice) => void): () => void;
  publishInvalidation(invalidation: Invalidation): void;
  onInvalidation(listener: (invalidation: Invalidation) => void): () => void;
  close(): Promise<void>;
}

/** The in-process bus: enough for one process; several processes need a broker. */
export function createInProcessEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(notices) {
      for (const notice of notices) emitter.emit('event', notice);
    },
    subscribe(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
    publishInvalidation(invalidation) {
      emitter.emit('invalidation', invalidation);
    },
    onInvalidation(listener) {
      emitter.on('invalidation', listener);
      return () => emitter.off('invalidation', listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
