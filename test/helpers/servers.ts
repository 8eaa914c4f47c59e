/**
 * Real engine servers for the bridge tests: nats-server (JetStream) on a random loopback port
 * and redis-server on a Unix socket, each in a temporary directory of its own, stopped by pid
 * and the directory removed. Never the default ports. A test whose server binary is missing is
 * skipped with a one-line notice outside CI, and fails in CI (CI=true), where .ci/run installs
 * both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './proc.js';
import { findBinary, requireTool } from './tools.js';

export { findBinary, IN_CI } from './tools.js';

/** `describe` when `binary` is installed; otherwise a skip with a notice, or under CI=true a failure (see tools.ts). */
export function describeWith(binary: 'nats-server' | 'redis-server', name: string, body: () => void): void {
  (requireTool(binary, `"${name}"`) !== undefined ? describe : describe.skip)(name, body);
}

abstract class Server {
  readonly dir: string;
  protected child: ChildProcess | undefined;
  protected exited: Promise<void> = Promise.resolve();

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  get pid(): number {
    return this.child!.pid!;
  }

  /** The server's own log, for the message when it fails to start. */
  protected log = '';

  protected launch(binary: string, args: string[]): void {
    const child = spawn(findBinary(binary)!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.log = '';
    const keep = (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-2000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  /** Stops the server (SIGTERM) and waits until its process has gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await this.exited;
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface NatsOptions {
  readonly user?: string;
  readonly pass?: string;
}

export class NatsServer extends Server {
  port = 0;
  readonly #options: NatsOptions;

  private constructor(options: NatsOptions) {
    super('mmapipc-nats-');
    this.#options = options;
  }

  static async start(options: NatsOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(options);
    await server.#launch(-1);
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** A URL with credentials in it. */
  urlWith(user: string, pass: string): string {
    return `nats://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${this.port}`;
  }

  async #launch(port: number): Promise<void> {
    const args = ['-js', '-sd', join(this.dir, 'js'), '-a', '127.0.0.1', '-p', String(port), '--ports_file_dir', this.dir];
    if (this.#options.user) args.push('--user', this.#options.user, '--pass', this.#options.pass ?? '');
    this.launch('nats-server', args);
    const portsFile = join(this.dir, `nats-server_${this.pid}.ports`);
    let ports: { nats: string[] } | undefined;
    await until(() => {
      if (this.child?.exitCode !== null) throw new Error(`nats-server exited (${this.child?.exitCode}) before it was ready: ${this.log}`);
      if (!existsSync(portsFile)) return false;
      try {
        ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] };
        return true;
      } catch {
        return false; // written but not complete yet
      }
    }, 'nats-server wrote its ports file');
    this.port = Number(new URL(ports!.nats[0]!).port);
  }

  /** Stops it and starts it again on the same port with the same data directory. */
  async restart(): Promise<void> {
    await this.stop();
    for (const file of readdirSync(this.dir)) if (file.endsWith('.ports')) rmSync(join(this.dir, file), { force: true });
    await this.#launch(this.port);
  }
}

/** A loopback TCP port nobody listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RedisOptions {
  readonly password?: string;
  /** Listen on a loopback TCP port too (`port`), not only on the Unix socket. */
  readonly tcp?: boolean;
  /** Append-only file, so that a restart keeps the data. */
  readonly persistent?: boolean;
}

export class RedisServer extends Server {
  readonly #options: RedisOptions;
  /** The TCP port with `tcp: true`, else 0. */
  port = 0;

  private constructor(options: RedisOptions) {
    super('mmapipc-redis-');
    this.#options = options;
  }

  static async start(options: RedisOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options);
    if (options.tcp) server.port = await freePort();
    await server.#launch();
    return server;
  }

  get socket(): string {
    return join(this.dir, 'redis.sock');
  }

  get url(): string {
    return `unix://${this.socket}`;
  }

  urlWith(password: string): string {
    return `unix://${this.socket}?password=${encodeURIComponent(password)}`;
  }

  async #launch(): Promise<void> {
    rmSync(this.socket, { force: true });
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--unixsocket', this.socket, '--unixsocketperm', '700', '--dir', this.dir, '--save', ''];
    if (this.#options.persistent) args.push('--appendonly', 'yes', '--appendfsync', 'everysec');
    if (this.#options.password) args.push('--requirepass', this.#options.password);
    this.launch('redis-server', args);
    await until(() => {
      if (this.child?.exitCode !== null) throw new Error(`redis-server exited (${this.child?.exitCode}) before it was ready: ${this.log}`);
      return existsSync(this.socket) && (this.port === 0 || this.log.includes('Ready to accept connections'));
    }, 'redis-server opened its socket');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#launch();
  }
}
