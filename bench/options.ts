// The benchmark's command-line options and what a scenario module provides.
import type { Figure } from './report.js';

export interface BenchOptions {
  /** Seconds of each measured load run. */
  durationSeconds: number;
  /** Seconds of the thrown-away run before each measured one. */
  warmupSeconds: number;
  /** Concurrent HTTP connections of every load run. */
  connections: number;
  /** WebSocket subscribers of the subscribers scenario. */
  subscribers: number;
  /** Subscribers connecting at once. */
  subscriberBatch: number;
  /** Events fanned out to all subscribers (each measured). */
  fanoutRounds: number;
  /** CPU profiles of the service children during the measured windows, summarised at the end. */
  cpuProfile: boolean;
  /** Subscribers scenario: also diff two heap snapshots around a thousand subscribers. */
  heapProfile: boolean;
  /** Echo the children's output. */
  verbose: boolean;
}

export interface ScenarioResult {
  figures: Figure[];
  /** The raw measurements behind the figures, for the JSON file. */
  details: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  /** One line for --help. */
  description: string;
  run(options: BenchOptions): Promise<ScenarioResult>;
}
