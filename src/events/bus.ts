import { EventEmitter } from 'node:events';

/** What is published when an order event has been committed: enough to route it, no personal data. */
export interface OrderEventNotice {
  sequence: bigint;
  orderId: string;
  refId: string;
  /** The service provider that placed the order. */
  clientId: string;
  issuer: string;
}

/**
 * The one pub/sub module of the service. Notices are published only after their transaction
 * committed; subscribers read the events themselves from the database, so a notice is a wake-up
 * call and a lost or reordered one cannot make a stream skip an event.
 */
export interface EventBus {
  publish(notices: readonly OrderEventNotice[]): void;
  subscribe(listener: (notice: OrderEventNotice) => void): () => void;
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
    async close() {
      emitter.removeAllListeners();
    },
  };
}
