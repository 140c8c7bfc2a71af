// Summarises a V8 .cpuprofile (node --cpu-prof): where the samples fell, by function (self time)
// and by package or source folder. `npm run bench -- --cpu-prof` prints this for every service
// child; on its own: npx tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--top=25]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time in seconds (idle included). */
  seconds: number;
  /** Share of non-idle samples. */
  busyPercent: number;
  byFunction: ProfileShare[];
  byArea: ProfileShare[];
  byComponent: ProfileShare[];
}

/** Where a frame's code lives: a package, a folder of src/ or bench/, node's own, or V8's. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1];
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const sourceMatch = /\/(src|bench)\/(.+?)(?:\/[^/]+)?$/.exec(url);
  if (sourceMatch) return `${sourceMatch[1]}/${sourceMatch[2].split('/')[0]}`;
  return url;
}

/** Areas grouped into the parts of the stack a finding talks about. */
const COMPONENTS: Array<[string, (area: string) => boolean]> = [
  ['Prisma (query compiler in WASM + client)', (area) => area.startsWith('wasm://') || area.startsWith('@prisma/')],
  ['pg driver', (area) => /^pg(-|$)/.test(area)],
  ['GraphQL (yoga, envelop, graphql-js, Pothos, graphql-ws)', (area) => /^(graphql|graphql-yoga|graphql-ws|graphql-scalars|@graphql-tools\/|@envelop\/|@whatwg-node\/|@pothos\/|@repeaterjs\/)/.test(area)],
  ['OAuth2 (oidc-provider, koa, jose)', (area) => /^(oidc-provider|koa|@koa\/|jose|quick-lru|eta)/.test(area)],
  ['logging and metrics (pino, prom-client)', (area) => /^(pino|prom-client|thread-stream|sonic-boom)/.test(area)],
  ['WebSocket (ws)', (area) => area === 'ws'],
  ['Node core (http, fetch, streams, events, timers)', (area) => area.startsWith('node:')],
  ['native (socket writes and other system calls)', (area) => area === '(native)'],
  ['garbage collector', (area) => area === '(garbage collector)'],
  ['project code (src/, bench/)', (area) => area.startsWith('src/') || area.startsWith('bench/')],
];

function componentOf(area: string): string {
  return COMPONENTS.find(([, matches]) => matches(area))?.[0] ?? 'other';
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  const byComponent = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    total += micros;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const where = url ? `${path.basename(url)}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''} [${areaOf(url, functionName)}]`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
    const component = componentOf(area);
    byComponent.set(component, (byComponent.get(component) ?? 0) + micros);
  }
  const busy = total - idle;

  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, percent: (100 * micros) / busy }));
  return {
    file,
    seconds: total / 1e6,
    busyPercent: (100 * busy) / total,
    byFunction: ranked(byFunction),
    byArea: ranked(byArea),
    byComponent: ranked(byComponent),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const lines = [`${path.basename(summary.file)}: ${summary.seconds.toFixed(1)} s sampled, ${summary.busyPercent.toFixed(0)}% busy. Self time, share of busy time:`];
  lines.push('  by component:');
  for (const share of summary.byComponent) lines.push(`    ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  lines.push('  by area:');
  for (const share of summary.byArea) lines.push(`    ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  lines.push('  by function:');
  for (const share of summary.byFunction) lines.push(`    ${share.percent.toFixed(1).padStart(5)}%  ${share.name}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const files = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const top = Number(/--top=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 25);
  if (!files.length) {
    console.error('Usage: npx tsx bench/cpu-profile-summary.ts FILE.cpuprofile ... [--top=25]');
    process.exit(64);
  }
  for (const file of files) console.log(formatProfileSummary(summariseProfile(file, top)), '\n');
}
