// `npm start` with PARTNERS_FILE, as an operator runs it: the start log says where each issuer's
// orders go, and a bad file stops the start naming every problem.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../kit.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'srs-partners-start-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

/** Runs `npx tsx src/main.ts` until `stopWhen` matches stdout (then SIGTERM) or it exits. */
function runMain(env: Record<string, string>, stopWhen?: RegExp): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { DATABASE_URL: _url, DATA_DIR: _dir, PORT: _port, SRS_TEST_MODE: _mode, PARTNERS_FILE: _file, SIMULATORS: _sim, ...inherited } = process.env;
  const child = spawn('npx', ['tsx', 'src/main.ts'], { cwd: projectDir, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`main did not finish in time.\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 120_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stopWhen?.test(stdout)) {
        stopWhen = undefined;
        process.kill(-child.pid!, 'SIGTERM');
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start with PARTNERS_FILE', () => {
  it('logs where each issuer goes', async () => {
    const file = path.join(folder, 'partners.json');
    fs.writeFileSync(file, JSON.stringify({ partners: { KLARNA: { apiUrl: 'https://klarna.example/srs', timeoutMs: 3000 }, nect: { apiUrl: 'http://127.0.0.1:9/nect' } } }));
    const port = await freePort();
    const { stdout } = await runMain(
      { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: path.join(folder, 'data'), PARTNERS_FILE: file, SIMULATORS: '0', SRS_TEST_MODE: '1', LOG_LEVEL: 'info' },
      /listening on/,
    );
    const lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const routes = Object.fromEntries(lines.filter((line) => typeof line.issuer === 'string' && line.via).map((line) => [line.issuer, line]));
    expect(Object.keys(routes).sort()).toEqual(['IDENTITY-TM-EID', 'IDENTITY.TM', 'INTRUM-AUTOIDENT', 'INTRUM-VIDEO', 'KLARNA', 'NECT', 'SWISSCOM-RA', 'TEST']);
    expect(routes.KLARNA).toMatchObject({ level: 30, via: 'partner', apiUrl: 'https://klarna.example/srs', timeoutMs: 3000, msg: 'KLARNA orders go to the partner at https://klarna.example/srs' });
    expect(routes.NECT).toMatchObject({ via: 'partner', apiUrl: 'http://127.0.0.1:9/nect' });
    expect(routes['INTRUM-VIDEO']).toMatchObject({ via: 'none', msg: 'INTRUM-VIDEO has no partner: its methods are not offered' });
    expect(routes.TEST).toMatchObject({ via: 'simulator', simulator: `http://127.0.0.1:${port}/ipsp/test/` });
  }, 150_000);

  it('refuses to start with a bad partners file, naming every problem', async () => {
    const file = path.join(folder, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ partners: { ACME: { apiUrl: 'https://acme.example' }, KLARNA: { apiUrl: 'not a url', timeoutMs: 0 } } }));
    const { code, stderr } = await runMain({ PORT: '0', DATA_DIR: path.join(folder, 'never'), PARTNERS_FILE: file });
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration');
    expect(stderr).toContain(`PARTNERS_FILE (${file}): partners.ACME: unknown issuer`);
    expect(stderr).toContain(`PARTNERS_FILE (${file}): partners.KLARNA.apiUrl: must be an http:// or https:// URL`);
    expect(stderr).toContain(`PARTNERS_FILE (${file}): partners.KLARNA.timeoutMs: `);
    expect(fs.existsSync(path.join(folder, 'never'))).toBe(false);
  }, 150_000);
});
