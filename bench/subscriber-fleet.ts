// The subscriber fleet: a child process holding N WebSocket clients, driven over IPC by the
// orchestrator (see fleet-protocol.ts). For a round it sends the trigger request itself, so the
// start time and every arrival time come from one clock: performance.now() in this process.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import type { ConnectCommand, ConnectedReply, FleetCommand, FleetReply, LatencySummary, RoundCommand, RoundReply } from './fleet-protocol.js';

/** What the fleet needs of one subscriber, whatever the mode. */
interface Subscriber {
  close(): void;
}

let subscribers: Subscriber[] = [];
/** Subscribers whose connection was acknowledged: the ones a round waits for. */
let connectedCount = 0;
/** Per subscriber: arrival time (performance.now) of this round's event; NaN while none. */
let arrivals = new Float64Array(0);
/** Per subscriber: the refId of the event it received this round (graphql-ws only). */
let arrivedRefIds: Array<string | undefined> = [];
let round: { received: number; done: () => void } | undefined;
let lastMessageAt = 0;

function reply(message: FleetReply): void {
  process.send!(message);
}

/** graphql-ws: the first CREATED event of a round counts; bare: the first message. */
function onEvent(index: number, refId: string | undefined): void {
  const now = performance.now();
  lastMessageAt = now;
  if (!round || !Number.isNaN(arrivals[index])) return;
  arrivals[index] = now;
  arrivedRefIds[index] = refId;
  if (++round.received === connectedCount) round.done();
}

function openGraphqlWs(index: number, command: ConnectCommand, onOpen: (error?: string) => void): Subscriber {
  let acknowledged = false;
  const client: Client = createClient({
    url: command.url,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${command.token}` },
    lazy: true,
    retryAttempts: 0,
    on: {
      connected: () => {
        acknowledged = true;
        onOpen();
      },
      closed: (event) => {
        if (!acknowledged) onOpen(`closed before acknowledgement: ${(event as { code?: number }).code ?? ''} ${(event as { reason?: string }).reason ?? ''}`);
      },
      error: (error) => {
        if (!acknowledged) onOpen(`error: ${error instanceof Error ? error.message : String(error)}`);
      },
    },
  });
  client.subscribe<{ orderEvents: { status: string; refId: string } }>(
    { query: command.query! },
    {
      next: (result) => {
        const event = result.data?.orderEvents;
        if (event?.status === 'CREATED') onEvent(index, event.refId);
        else lastMessageAt = performance.now();
      },
      error: () => {},
      complete: () => {},
    },
  );
  return { close: () => void client.dispose() };
}

function openBareWs(index: number, command: ConnectCommand, onOpen: (error?: string) => void): Subscriber {
  const socket = new WebSocket(command.url);
  socket.once('open', () => onOpen());
  socket.once('error', (error) => onOpen(`error: ${error.message}`));
  socket.on('message', () => onEvent(index, undefined));
  return { close: () => socket.close() };
}

async function connect(command: ConnectCommand): Promise<ConnectedReply> {
  const started = performance.now();
  const open = command.mode === 'graphql-ws' ? openGraphqlWs : openBareWs;
  let failed = 0;
  let firstError: string | undefined;
  for (let first = 0; first < command.count; first += command.batchSize) {
    const size = Math.min(command.batchSize, command.count - first);
    await Promise.all(
      Array.from(
        { length: size },
        () =>
          new Promise<void>((resolve) => {
            let settled = false;
            const subscriber = open(subscribers.length, command, (error) => {
              if (settled) return;
              settled = true;
              if (error) {
                failed++;
                firstError ??= error;
              }
              resolve();
            });
            subscribers.push(subscriber);
          }),
      ),
    );
  }
  arrivals = new Float64Array(subscribers.length).fill(Number.NaN);
  arrivedRefIds = new Array(subscribers.length);
  connectedCount += command.count - failed;
  return { kind: 'connected', requested: command.count, connected: command.count - failed, failed, seconds: (performance.now() - started) / 1000, firstError };
}

function summarise(sortedMs: number[]): LatencySummary {
  const at = (p: number) => (sortedMs.length ? sortedMs[Math.min(sortedMs.length, Math.max(1, Math.ceil((p / 100) * sortedMs.length))) - 1] : Number.NaN);
  return { min: sortedMs[0] ?? Number.NaN, p50: at(50), p90: at(90), p99: at(99), max: sortedMs[sortedMs.length - 1] ?? Number.NaN };
}

async function runRound(command: RoundCommand): Promise<RoundReply> {
  arrivals.fill(Number.NaN);
  arrivedRefIds.fill(undefined);
  let done = () => {};
  const everyoneReceived = new Promise<void>((resolve) => (done = resolve));
  round = { received: 0, done };
  const started = performance.now();
  const answer = fetch(command.trigger.url, { method: 'POST', headers: command.trigger.headers, body: command.trigger.body }).then(async (response) => ({
    status: response.status,
    text: await response.text(),
    ms: performance.now() - started,
  }));
  const timedOut = Symbol('timeout');
  await Promise.race([everyoneReceived, sleep(command.timeoutMs, timedOut)]);
  // A service that stopped delivering may also take minutes to answer: wait one more timeout at most.
  const noAnswer = { status: 0, text: `no answer within ${(2 * command.timeoutMs) / 1000} s`, ms: Number.NaN };
  const { status, text, ms } = await Promise.race([
    answer.catch((error: unknown) => ({ status: 0, text: String(error), ms: performance.now() - started })),
    sleep(command.timeoutMs, noAnswer),
  ]);
  const received = round.received;
  round = undefined;

  let expectedRefId: string | undefined;
  try {
    expectedRefId = (JSON.parse(text) as { data?: { placeOrder?: { order?: { refId?: string } } } }).data?.placeOrder?.order?.refId;
  } catch {
    // the bare broadcast answers no JSON
  }
  const latencies: number[] = [];
  let wrongEvent = 0;
  arrivals.forEach((arrival, index) => {
    if (Number.isNaN(arrival)) return;
    latencies.push(arrival - started);
    if (expectedRefId && arrivedRefIds[index] !== expectedRefId) wrongEvent++;
  });
  // A subscriber that never received the event counts as the whole timeout, so that a round
  // with missed events cannot show a good percentile.
  for (let index = latencies.length; index < connectedCount; index++) latencies.push(command.timeoutMs);
  latencies.sort((a, b) => a - b);
  // Let the rest of this round's messages (graphql-ws: the INITIALIZED event) arrive before the
  // next round, so they do not compete with its measurement.
  const quietSince = () => performance.now() - lastMessageAt;
  const deadline = performance.now() + 15_000;
  while (quietSince() < 500 && performance.now() < deadline) await sleep(100);
  return {
    kind: 'round',
    received,
    missing: connectedCount - received,
    latencyMs: summarise(latencies),
    triggerStatus: status,
    triggerMs: ms,
    wrongEvent,
    triggerAnswer: text.slice(0, 300),
  };
}

async function disconnect(): Promise<void> {
  for (const subscriber of subscribers) subscriber.close();
  subscribers = [];
  connectedCount = 0;
  arrivals = new Float64Array(0);
  arrivedRefIds = [];
  // Give the closes time to leave, so the server sees them before the next step.
  await sleep(1000);
}

process.on('message', (command: FleetCommand) => {
  void (async () => {
    try {
      if (command.kind === 'connect') reply(await connect(command));
      else if (command.kind === 'round') reply(await runRound(command));
      else if (command.kind === 'disconnect') {
        await disconnect();
        reply({ kind: 'disconnected' });
      } else {
        await disconnect();
        process.exit(0);
      }
    } catch (error) {
      reply({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  })();
});
// The orchestrator going away ends the fleet too.
process.on('disconnect', () => process.exit(0));
