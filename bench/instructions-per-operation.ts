// npx tsx bench/instructions-per-operation.ts ROOT lookup|placeOrder WARMUP N [CONCURRENCY] [--valgrind]
//   e.g. npx tsx bench/instructions-per-operation.ts . lookup 1000 500 10 --valgrind
// What one operation costs the service, in a figure other work on the machine does not change:
// starts the service of the checkout ROOT on a fresh database (under valgrind's callgrind with
// instrumentation off, with --valgrind), warms it up with WARMUP operations, then counts the
// instructions (callgrind, user space only: system calls are not in it) or the CPU time (/proc)
// of N operations at CONCURRENCY. Under callgrind a run takes minutes.
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import pg from 'pg';

const [root, op, warmupArg, countArg, concArg, flag] = process.argv.slice(2);
const valgrind = flag === '--valgrind' || concArg === '--valgrind';
const concurrency = Number(concArg && concArg !== '--valgrind' ? concArg : 10);
const admin = 'postgres://root@127.0.0.1:5432/test';
const dbName = `srs_cpu_cg_${Date.now()}`;
const a = new pg.Client({ connectionString: admin }); await a.connect(); await a.query(`CREATE DATABASE ${dbName}`); await a.end();
const port = 40000 + Math.floor(Math.random() * 10000);
const url = `http://127.0.0.1:${port}`;
const env = { ...process.env, DATABASE_URL: `postgres://root@127.0.0.1:5432/${dbName}`, DATA_ENCRYPTION_KEYS: `b1:${randomBytes(32).toString('base64')}`, DATA_HASH_KEY: randomBytes(32).toString('base64'), PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: url, SRS_TEST_MODE: '1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_CLIENT: '1000000' };
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-callgrind-'));
const outFile = path.join(outDir, 'callgrind.out');
const cmd = valgrind ? ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`, process.execPath, '--import', 'tsx', 'src/main.ts'] : [process.execPath, '--import', 'tsx', 'src/main.ts'];
const child = spawn(cmd[0], cmd.slice(1), { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = ''; child.stderr.on('data', (d) => (stderr += d));
const cleanup = async () => { child.kill('SIGKILL'); await new Promise((r) => setTimeout(r, 500)); const c = new pg.Client({ connectionString: admin }); await c.connect(); await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`); await c.end(); };
try {
  for (let i = 0; ; i++) {
    try { const r = await fetch(`${url}/health`); if (r.ok) break; } catch {}
    if (i > 600) throw new Error('no health: ' + stderr);
    await new Promise((r) => setTimeout(r, 500));
  }
  const cli = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'clients', 'create', '--name', 'cg', '--role', 'SERVICE_PROVIDER', '--json'], { cwd: root, env }).toString();
  const client = JSON.parse(cli.trim().split('\n').pop()!);
  const tr = await fetch(`${url}/oidc/token`, { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  const token = ((await tr.json()) as { access_token: string }).access_token;
  const LOOKUP = `query BenchLookup($input: LookupInput!) {\n  lookup(input: $input) { valid reason evidenceId validUntil expiresWithin90Days }\n}`;
  const PLACE = `mutation BenchPlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) { order { refId status } userErrors { code message } }\n}`;
  const methodId = Buffer.from('IdentificationMethod:test-video').toString('base64');
  let serial = 0;
  const body = () => {
    const i = serial++;
    const number = `+417912${String(i % 10_000).padStart(5, '0')}`;
    return op === 'lookup'
      ? JSON.stringify({ query: LOOKUP, variables: { input: { mobileNumber: number } } })
      : JSON.stringify({ query: PLACE, variables: { input: { methodId, externalId: `k${i}-${dbName}`, idempotencyKey: `k${i}-${dbName}`, initialData: { givenNames: 'Anna', surname: 'Muster', dateOfBirth: '1990-04-01', mobileNumber: number } } } });
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let failures = 0;
  const one = () => new Promise<void>((resolve, reject) => {
    const payload = body();
    const req = http.request(`${url}/graphql`, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = ''; res.on('data', (d) => (text += d)); res.on('end', () => { if (res.statusCode !== 200 || text.includes('"errors"') || (op !== 'lookup' && !text.includes('refId'))) { failures++; if (failures < 3) console.error(text.slice(0, 300)); } resolve(); });
    });
    req.on('error', reject); req.end(payload);
  });
  const batch = async (n: number) => { let left = n; await Promise.all(Array.from({ length: concurrency }, async () => { while (left-- > 0) await one(); })); };
  // valgrind names its control pipes after $HOST, which the service's environment sets
  const cg = (args: string[]) => execFileSync('callgrind_control', [...args, String(child.pid)], { env: { ...process.env, HOST: '127.0.0.1' } });
  const cpuOf = () => { const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
  await batch(Number(warmupArg));
  const n = Number(countArg);
  if (valgrind) cg(['-z']), cg(['-i', 'on']);
  const cpu0 = cpuOf(); const t0 = performance.now();
  await batch(n);
  const ms = performance.now() - t0; const cpu = cpuOf() - cpu0;
  if (valgrind) {
    cg(['-i', 'off']);
    cg(['-d']);
    await new Promise((r) => setTimeout(r, 2000));
    const files = fs.readdirSync(outDir).map((f) => path.join(outDir, f));
    let ir = 0;
    for (const f of files) { const m = fs.readFileSync(f, 'utf8').match(/^totals: (\d+)/m); if (m) ir = Math.max(ir, Number(m[1])); }
    console.log(JSON.stringify({ root, op, n, concurrency, failures, irPerOp: Math.round(ir / n), files }));
  } else {
    console.log(JSON.stringify({ root, op, n, concurrency, failures, cpuMsPerOp: +(cpu / n).toFixed(3), perSecond: Math.round(n / ms * 1000) }));
  }
} finally { await cleanup(); }
