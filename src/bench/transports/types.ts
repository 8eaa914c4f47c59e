/** What each transport provides to the bench workers: the receiving host side and the peer side. */
import type { ChildProcess } from 'node:child_process';
import type { Verifier } from '../payload.js';
import type { PingLog } from '../ping-log.js';
import type { LatencyConfig, ThroughputConfig } from '../protocol.js';

export interface ReceiverSide {
  /** Takes messages until the verifier has every one (or has found a fault). */
  receive(verifier: Verifier, peers: readonly ChildProcess[]): Promise<void>;
  close(): void;
}

export interface SenderSide {
  /** Sends every message of this sender; resolves once they have left this process. */
  send(): Promise<void>;
  close(): void;
}

export interface PingSide {
  /** Plays every round of `log` against the ponger `peer`. */
  run(log: PingLog, peer: ChildProcess): Promise<void>;
  close(): void;
}

export interface PongSide {
  /** Echoes `rounds` messages. */
  run(rounds: number): Promise<void>;
  close(): void;
}

export interface TransportBench {
  receiver(config: ThroughputConfig): Promise<ReceiverSide>;
  sender(config: ThroughputConfig, index: number): Promise<SenderSide>;
  pinger(config: LatencyConfig): Promise<PingSide>;
  ponger(config: LatencyConfig): Promise<PongSide>;
}
