// A few calls into a child's V8 inspector (the child runs with --inspect=127.0.0.1:0): a full
// garbage collection before reading memory, so that a memory figure is live data and not
// whatever garbage the last burst of work left; the child's own process.memoryUsage(); and a CPU
// profile of exactly the measured window of a load run.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { Child } from './harness.js';

/** The node flag that makes a child's inspector reachable (on a free port, loopback only). */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface Inspector {
  collectGarbage(): Promise<void>;
  memoryUsage(): Promise<MemoryUsage>;
  /** Starts the sampling CPU profiler (main thread only). */
  startProfiling(): Promise<void>;
  /** Stops it; returns the profile as JSON, the format of a .cpuprofile file. */
  stopProfiling(): Promise<string>;
  /** A heap snapshot, summed up by what holds the memory (constructor, closure or V8 internal). */
  heapByKind(): Promise<HeapKinds>;
  close(): void;
}

/** Per kind of heap object: how many there are and their own size in bytes. */
export type HeapKinds = Map<string, { count: number; bytes: number }>;

/** Connects to the inspector a child announced on stderr ("Debugger listening on ws://…"). */
export async function openInspector(child: Child): Promise<Inspector> {
  let url: string | undefined;
  for (let attempt = 0; attempt < 50 && !url; attempt++) {
    url = /Debugger listening on (ws:\/\/\S+)/.exec(child.output())?.[1];
    if (!url) await sleep(100);
  }
  if (!url) throw new Error(`${child.name} announced no inspector; was it started with ${INSPECT_FLAG}?`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id!);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  });
  let snapshotChunks: string[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { method?: string; params?: { chunk: string } };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') snapshotChunks.push(message.params!.chunk);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
    },
    async memoryUsage() {
      const result = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
      return JSON.parse(result.result.value) as MemoryUsage;
    },
    async startProfiling() {
      await call('Profiler.enable');
      await call('Profiler.start');
    },
    async stopProfiling() {
      const { profile } = (await call('Profiler.stop')) as { profile: unknown };
      await call('Profiler.disable');
      return JSON.stringify(profile);
    },
    async heapByKind() {
      snapshotChunks = [];
      await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const snapshot = JSON.parse(snapshotChunks.join('')) as HeapSnapshot;
      snapshotChunks = [];
      return summariseHeapSnapshot(snapshot);
    },
    close: () => socket.close(),
  };
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function summariseHeapSnapshot(heap: HeapSnapshot): HeapKinds {
  const fields = heap.snapshot.meta.node_fields;
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const typeNames = heap.snapshot.meta.node_types[0];
  const kinds: HeapKinds = new Map();
  for (let offset = 0; offset < heap.nodes.length; offset += stride) {
    const type = typeNames[heap.nodes[offset + typeAt]];
    const name = heap.strings[heap.nodes[offset + nameAt]];
    // Objects by constructor, closures by function name, the rest (strings, arrays, code, V8's
    // hidden objects) by their type only: their names are contents, not kinds.
    const kind = type === 'object' ? name : type === 'closure' ? `closure ${name || '(anonymous)'}` : `(${type})`;
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += heap.nodes[offset + sizeAt];
    kinds.set(kind, entry);
  }
  return kinds;
}

/** What grew between two heap summaries, per unit (e.g. per subscriber), largest first. */
export function heapGrowth(before: HeapKinds, after: HeapKinds, units: number, top = 25): Array<{ kind: string; countPerUnit: number; bytesPerUnit: number }> {
  return [...after]
    .map(([kind, { count, bytes }]) => ({
      kind,
      countPerUnit: (count - (before.get(kind)?.count ?? 0)) / units,
      bytesPerUnit: (bytes - (before.get(kind)?.bytes ?? 0)) / units,
    }))
    .sort((a, b) => b.bytesPerUnit - a.bytesPerUnit)
    .slice(0, top);
}
