// The messages between the orchestrator and the subscriber fleet (bench/subscriber-fleet.ts), a
// child process so that ten thousand WebSocket clients do not share a CPU and a heap with the
// orchestrator's measurements.

/** 'graphql-ws': graphql-ws clients subscribed on the service; 'bare-ws': plain `ws` sockets. */
export type FleetMode = 'graphql-ws' | 'bare-ws';

export interface ConnectCommand {
  kind: 'connect';
  mode: FleetMode;
  /** ws://host:port/path */
  url: string;
  /** graphql-ws only: sent as connectionParams { Authorization: 'Bearer …' }. */
  token?: string;
  /** graphql-ws only: the subscription every client runs. */
  query?: string;
  count: number;
  /** Connections opened at once; the next batch starts when this one is acknowledged. */
  batchSize: number;
}

/** An HTTP request that causes one event for every subscriber: placeOrder, or the bare broadcast. */
export interface Trigger {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RoundCommand {
  kind: 'round';
  trigger: Trigger;
  /** Give up waiting for missing subscribers after this long. */
  timeoutMs: number;
}

export type FleetCommand = ConnectCommand | RoundCommand | { kind: 'disconnect' } | { kind: 'exit' };

export interface LatencySummary {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface ConnectedReply {
  kind: 'connected';
  requested: number;
  connected: number;
  failed: number;
  seconds: number;
  firstError?: string;
}

export interface RoundReply {
  kind: 'round';
  /** Subscribers that received the round's event. */
  received: number;
  missing: number;
  /** From just before the trigger was sent to the event's arrival, per subscriber, in ms; a missing one counts as the timeout. */
  latencyMs: LatencySummary;
  triggerStatus: number;
  /** How long the trigger request itself took. */
  triggerMs: number;
  /** graphql-ws: events of another order than the trigger's (should be 0). */
  wrongEvent: number;
  /** The start of the trigger's answer, for error messages. */
  triggerAnswer: string;
}

export type FleetReply = ConnectedReply | RoundReply | { kind: 'disconnected' } | { kind: 'error'; message: string };
