import { GraphQLError, type ExecutionResult } from 'graphql';
import { MessageType } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { isMergeableStream, type MergeableStream } from '../events/event-stream.js';
import { sharedSubscriptionOf, type SharedSubscription } from './shared-subscription-execution.js';
import { log } from '../observability/log.js';

/** One graphql-ws operation (a socket and an operation id) that a channel sends its results to. */
export interface Member {
  readonly socket: WebSocket;
  readonly id: string;
  /** Results of events up to this sequence are not this member's (they came before it subscribed). */
  after?: bigint;
  /** Called once the channel has ended the operation (completed it or sent its error). */
  onEnd(member: Member): void;
}

/** Sockets written to per turn of the event loop: I/O (transactions, requests) gets in between. */
const SEND_SLICE = 500;

/**
 * The results of one subscription's stream, sent to every member. Identical live subscriptions
 * (same document, operation and variables, same audience and token, no replay) share one:
 * each event is executed and turned into JSON once, and every member's socket is written the
 * same payload. A member costs an entry in a set instead of its own stream, its own iteration
 * through the GraphQL plugins and its own serialisation.
 */
export class SubscriptionChannel {
  private readonly members = new Set<Member>();

  constructor(
    private readonly results: AsyncIterator<ExecutionResult>,
    private readonly subscription: SharedSubscription | undefined,
    private readonly stream: MergeableStream | undefined,
    private readonly onEmpty: () => void,
  ) {}

  get size(): number {
    return this.members.size;
  }

  add(member: Member): void {
    if (this.members.size > 0) this.stream?.countServed(1);
    this.members.add(member);
  }

  /** The member's subscriber left (a `complete` message, its socket closed). */
  remove(member: Member): void {
    if (!this.members.delete(member)) return;
    if (this.members.size > 0) this.stream?.countServed(-1);
    else this.stop();
  }

  async pump(): Promise<void> {
    for (;;) {
      let step: IteratorResult<ExecutionResult>;
      try {
        step = await this.results.next();
      } catch (error) {
        // As graphql-ws does: the stream's error, as a GraphQL error (its extensions kept).
        const original = error instanceof Error ? error : new Error(String(error));
        const errors = [new GraphQLError(original.message, { originalError: original })];
        return this.end((member) => errorMessage(member.id, errors));
      }
      if (step.done) return this.end((member) => completeMessage(member.id));
      if (this.members.size === 0) return;
      const payload = resultJson(step.value);
      const sequence = this.stream && this.subscription ? this.stream.sequenceOf(this.subscription.lastEvent) : undefined;
      await this.send(payload, sequence);
    }
  }

  private async send(payload: string, sequence: bigint | undefined): Promise<void> {
    const everyone = [...this.members];
    for (let start = 0; start < everyone.length; start += SEND_SLICE) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (let index = start; index < everyone.length && index < start + SEND_SLICE; index++) {
        const member = everyone[index];
        if (!this.members.has(member)) continue;
        if (member.after !== undefined && sequence !== undefined) {
          if (sequence <= member.after) continue;
          member.after = undefined;
        }
        write(member.socket, nextMessage(member.id, payload));
      }
    }
  }

  private end(message: (member: Member) => string): void {
    const everyone = [...this.members];
    this.members.clear();
    this.onEmpty();
    if (everyone.length > 1) this.stream?.countServed(1 - everyone.length);
    for (const member of everyone) {
      write(member.socket, message(member));
      member.onEnd(member);
    }
  }

  private stop(): void {
    this.onEmpty();
    this.results.return?.().catch((error: unknown) => log().error({ err: error }, 'Ending a subscription stream failed'));
  }
}

// graphql-ws's messages, written around a payload serialised once for every member.
/** A result as graphql-ws sends it: its errors in their JSON form, no `errors` key without any. */
export function resultJson(result: ExecutionResult): string {
  const { errors, ...rest } = result;
  return JSON.stringify(errors ? { ...rest, errors: errors.map((error) => error.toJSON()) } : rest);
}

export function nextMessage(id: string, resultJson: string): string {
  return `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":${resultJson}}`;
}

export function errorMessage(id: string, errors: readonly GraphQLError[]): string {
  return `{"id":${JSON.stringify(id)},"type":"${MessageType.Error}","payload":${JSON.stringify(errors.map((error) => error.toJSON()))}}`;
}

export function completeMessage(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"${MessageType.Complete}"}`;
}

export function write(socket: WebSocket, message: string): void {
  // A failed write closes the socket, which ends its operations (see websocket-server.ts).
  if (socket.readyState === socket.OPEN) socket.send(message);
}

/** The channels of identical live subscriptions, by what makes them identical. */
export class SubscriptionChannels {
  private readonly byKey = new Map<string, SubscriptionChannel>();

  /**
   * Sends the results of a subscription (the iterator of its GraphQL execution, with the context
   * value it ran with) to its member: through the channel of an identical live subscription if
   * one is open (the new one's own stream then ends), else through a channel of its own.
   */
  attach(results: AsyncIterator<ExecutionResult>, contextValue: unknown, member: Member): SubscriptionChannel {
    const subscription = sharedSubscriptionOf(contextValue);
    const stream = subscription && isMergeableStream(subscription.source) ? subscription.source : undefined;
    const key = subscription?.key != null && stream?.liveAfter != null ? `${subscription.key}\u0000${stream.accessToken}` : undefined;
    const open = key === undefined ? undefined : this.byKey.get(key);
    if (open) {
      // The new stream started at the feed's tail: the channel's results up to there are older.
      member.after = stream!.liveAfter!;
      open.add(member);
      results.return?.().catch((error: unknown) => log().error({ err: error }, 'Ending a merged subscription stream failed'));
      return open;
    }
    const channel = new SubscriptionChannel(results, subscription, stream, () => {
      if (key !== undefined && this.byKey.get(key) === channel) this.byKey.delete(key);
    });
    if (key !== undefined) this.byKey.set(key, channel);
    channel.add(member);
    void channel.pump().catch((error: unknown) => log().error({ err: error }, 'Sending subscription results failed'));
    return channel;
  }
}
