// Figures, the table on stdout and the JSON file. Every figure is compared with something
// measured in the same run (a baseline) or with a target, as a ratio oriented so that higher is
// better: value / reference when more is better, reference / value when less is better.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminQuery, cpuMsPerRequest, SERVICE_ROOT, type LoadResult } from './harness.js';

export interface Reference {
  kind: 'baseline' | 'target';
  /** e.g. "bare node:http + pg" or "target". */
  label: string;
  value: number;
}

export interface Figure {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  reference?: Reference;
  /** Higher is better: value / reference, or reference / value for figures where less is better. */
  ratio?: number;
  /** The ratio needed to pass; absent for figures shown for information. */
  minRatio?: number;
  pass?: boolean;
  note?: string;
}

type FigureInput = { scenario: string; figure: string; value: number; unit: string; reference?: Reference; minRatio?: number; note?: string };

/** A figure where more is better (throughput): ratio = value / reference. */
export function moreIsBetter(input: FigureInput): Figure {
  return judged(input, input.reference ? input.value / input.reference.value : undefined);
}

/** A figure where less is better (latency, memory): ratio = reference / value. */
export function lessIsBetter(input: FigureInput): Figure {
  return judged(input, input.reference ? input.reference.value / input.value : undefined);
}

/** A figure shown for information, compared with nothing. */
export function info(input: Omit<FigureInput, 'reference' | 'minRatio'>): Figure {
  return judged(input, undefined);
}

function judged(input: FigureInput, ratio: number | undefined): Figure {
  const usable = ratio !== undefined && Number.isFinite(ratio) ? ratio : undefined;
  return {
    ...input,
    ratio: usable,
    pass: input.minRatio === undefined ? undefined : usable !== undefined && usable >= input.minRatio,
  };
}

/**
 * CPU milliseconds per successful request of each load run, of the server process (its child
 * processes included) and of the PostgreSQL backends of its database: the inputs of the
 * scale-out estimate in BENCHMARKS.md, which carry over to other machines better than throughput.
 */
export function cpuPerRequestFigures(scenario: string, operation: string, runs: Array<[label: string, result: LoadResult, process: string]>): Figure[] {
  return runs.flatMap(([label, result, process]) => [
    info({ scenario, figure: `CPU per ${operation}, ${label}: its process`, value: cpuMsPerRequest(result, process), unit: 'ms' }),
    info({ scenario, figure: `CPU per ${operation}, ${label}: PostgreSQL backends of its database`, value: cpuMsPerRequest(result, 'database'), unit: 'ms' }),
  ]);
}

/**
 * The throughput ratio to expect where CPU is the only limit: the reference's CPU per request
 * (its process and its database's backends) over the measured one's. It reads the same on a
 * loaded machine as on a quiet one, where throughput ratios only say who got more of the CPU.
 */
export function cpuBoundRatio(scenario: string, operation: string, measured: [LoadResult, string], reference: [label: string, result: LoadResult, process: string]): Figure {
  const cpuPer = (result: LoadResult, process: string) => cpuMsPerRequest(result, process) + cpuMsPerRequest(result, 'database');
  const [label, result, process] = reference;
  return moreIsBetter({
    scenario,
    figure: `${operation}s per CPU-ms (process + PostgreSQL backends) vs ${label}: the CPU-bound ratio`,
    value: 1 / cpuPer(...measured),
    unit: '/CPU-ms',
    reference: { kind: 'baseline', label, value: 1 / cpuPer(result, process) },
  });
}

// ---- machine ---------------------------------------------------------------------------------

export interface MachineInfo {
  os: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryMb: number;
  node: string;
  postgres: string;
  fileDescriptorLimit?: string;
  /** The checkout measured, its commit, and whether its src/ had uncommitted changes then. */
  git?: { serviceRoot: string; commit: string; srcChanged: boolean };
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  const [{ version }] = await adminQuery<{ version: string }>('SELECT version()');
  let fileDescriptorLimit: string | undefined;
  try {
    fileDescriptorLimit = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
  } catch {
    // not Linux
  }
  return {
    git: gitState(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    postgres: version,
    fileDescriptorLimit,
  };
}

/** The measured checkout's commit now (src/ may change while a long run goes on). */
export function gitState(): MachineInfo['git'] {
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: SERVICE_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { serviceRoot: SERVICE_ROOT, commit: git(['rev-parse', '--short', 'HEAD']), srcChanged: git(['status', '--porcelain', '--', 'src', 'prisma']) !== '' };
  } catch {
    return undefined;
  }
}

// ---- the table -------------------------------------------------------------------------------

function formatNumber(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

export function formatTable(figures: readonly Figure[]): string {
  const header = ['scenario', 'figure', 'value', 'reference', 'ratio', 'target', 'result'];
  const rows = figures.map((figure) => [
    figure.scenario,
    figure.figure,
    formatNumber(figure.value, figure.unit),
    figure.reference ? `${figure.reference.label} ${formatNumber(figure.reference.value, figure.unit)}` : '',
    figure.ratio === undefined ? '' : formatNumber(figure.ratio),
    figure.minRatio === undefined ? '' : `>= ${formatNumber(figure.minRatio)}`,
    figure.pass === undefined ? 'info' : figure.pass ? 'met' : 'MISSED',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const rightAligned = new Set([2, 4]);
  const line = (cells: string[]) => cells.map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

// ---- the JSON file ---------------------------------------------------------------------------

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  figures: Figure[];
  /** Per scenario: the raw measurements behind the figures. */
  details: Record<string, unknown>;
  /** Scenarios that could not finish, with the error. */
  failures: Record<string, string>;
}

export const RESULTS_DIR = path.join(import.meta.dirname, 'results');

/** Writes results/latest.json and a timestamped copy; returns both paths. */
export function saveReport(report: BenchReport): { latest: string; stamped: string } {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 2)}\n`;
  const latest = path.join(RESULTS_DIR, 'latest.json');
  const stamped = path.join(RESULTS_DIR, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(latest, json);
  fs.writeFileSync(stamped, json);
  return { latest, stamped };
}
