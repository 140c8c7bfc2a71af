// A TCP proxy in front of PostgreSQL that counts the statements its clients execute, by reading
// the frontend half of the wire protocol. Used to count what one request costs in SQL without
// touching the service (no query logging in src/, no pg_stat_statements on the server). It adds a
// hop, so it is used only for counting, never while timing.
import net from 'node:net';

export interface StatementCounts {
  /** Statements executed (extended-protocol Execute messages plus simple Query messages). */
  statements: number;
  /** Round trips to the server: Sync messages plus simple Query messages. */
  roundTrips: number;
  /** Executions per SQL text (whitespace collapsed). */
  bySql: Map<string, number>;
}

export interface StatementCounter {
  /** The database URL to give the service: the same database, through the proxy. */
  databaseUrl: string;
  /** Starts counting from zero. */
  reset(): void;
  snapshot(): StatementCounts;
  close(): Promise<void>;
}

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;

export async function startStatementCounter(upstreamUrl: string): Promise<StatementCounter> {
  const upstream = new URL(upstreamUrl);
  let counts = emptyCounts();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(server);
    const parser = frontendParser(
      (sql) => {
        counts.statements++;
        counts.bySql.set(sql, (counts.bySql.get(sql) ?? 0) + 1);
      },
      () => counts.roundTrips++,
    );
    client.on('data', (chunk: Buffer) => {
      parser(chunk);
      if (!server.write(chunk)) client.pause();
    });
    server.on('drain', () => client.resume());
    server.pipe(client);
    const closeBoth = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('close', closeBoth).on('error', closeBoth);
    server.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(upstreamUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as net.AddressInfo).port);

  return {
    databaseUrl: proxied.toString(),
    reset: () => (counts = emptyCounts()),
    snapshot: () => ({ ...counts, bySql: new Map(counts.bySql) }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function emptyCounts(): StatementCounts {
  return { statements: 0, roundTrips: 0, bySql: new Map() };
}

/**
 * Splits a client's byte stream into protocol messages. The first message (startup, or an SSL
 * or GSS request before it) has no type byte; every later one is a type byte and a length.
 */
function frontendParser(onStatement: (sql: string) => void, onRoundTrip: () => void): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  let startup = true;
  let lastParsed = '';
  let bound = '';
  const named = new Map<string, string>();

  return (chunk) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    for (;;) {
      if (startup) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const code = buffered.readInt32BE(4);
        if (code !== SSL_REQUEST_CODE && code !== GSSENC_REQUEST_CODE) startup = false;
        buffered = buffered.subarray(length);
        continue;
      }
      if (buffered.length < 5) return;
      const length = buffered.readInt32BE(1);
      if (buffered.length < 1 + length) return;
      const type = String.fromCharCode(buffered[0]);
      const payload = buffered.subarray(5, 1 + length);
      buffered = buffered.subarray(1 + length);
      if (type === 'P') {
        const [name, sql] = cStrings(payload, 2);
        lastParsed = tidy(sql);
        if (name) named.set(name, lastParsed);
      } else if (type === 'B') {
        const [, statement] = cStrings(payload, 2);
        bound = statement ? (named.get(statement) ?? statement) : lastParsed;
      } else if (type === 'E') {
        onStatement(bound);
      } else if (type === 'S') {
        onRoundTrip();
      } else if (type === 'Q') {
        onStatement(tidy(cStrings(payload, 1)[0]));
        onRoundTrip();
      }
    }
  };
}

function cStrings(payload: Buffer, count: number): string[] {
  const values: string[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = payload.indexOf(0, start);
    if (end < 0) break;
    values.push(payload.toString('utf8', start, end));
    start = end + 1;
  }
  return values;
}

function tidy(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}
