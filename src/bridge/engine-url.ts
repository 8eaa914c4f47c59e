/**
 * Engine addresses and credentials, checked before any connection is tried. Credentials come
 * from the URL (`nats://user:pass@host:port`, `redis://:pass@host:port/0`), from NATS_URL /
 * REDIS_URL when `--nats` / `--redis` is given without a value (keeping them out of `ps`), or
 * from `--creds FILE`: a NATS credentials file (JWT and seed), or a first line `user:password`
 * or a bare token / password. What is printed or recorded is the URL without its credentials.
 */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { Engine } from './origin.js';

export interface NatsTarget {
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** Contents of a NATS credentials file. */
  readonly creds?: Uint8Array;
  /** For display: no credentials. */
  readonly display: string;
}

export interface RedisTarget {
  readonly host?: string;
  readonly port?: number;
  /** A Unix socket. */
  readonly path?: string;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
  readonly display: string;
}

/** `--nats` / `--redis`: a URL, or `true` (given without a value) for the environment's. */
export function engineUrl(engine: Engine, value: string | true, env: NodeJS.ProcessEnv): string {
  if (value !== true) return value;
  const name = engine === 'nats' ? 'NATS_URL' : 'REDIS_URL';
  const fromEnv = env[name];
  if (!fromEnv) throw new UsageError(`option '--${engine}' was given without a URL and $${name} is not set; pass --${engine} URL or set ${name}`);
  return fromEnv;
}

function badUrl(engine: Engine, url: string, expected: string): UsageError {
  return new UsageError(`option '--${engine}' expected ${expected}, got '${redactUrl(url)}'`);
}

/** What secret a URL carries, if any: `user:password@`, `token@`, or `?password=`. */
function secretIn(engine: Engine, url: string): 'a password' | 'a token' | undefined {
  for (const part of engine === 'nats' ? url.split(',') : [url]) {
    const credentials = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(part.trim())?.[1] ?? (engine === 'nats' ? /^([^@/]*)@/.exec(part.trim())?.[1] : undefined);
    if (credentials !== undefined && credentials.includes(':')) {
      if (credentials.slice(credentials.indexOf(':') + 1) !== '') return 'a password';
    } else if (credentials !== undefined && credentials !== '' && engine === 'nats') {
      return 'a token'; // a Redis URL's lone user name is no secret
    }
    if (/[?&]password=/.test(part)) return 'a password';
  }
  return undefined;
}

/**
 * Warnings about how the credentials were given, one line each: a secret in a URL typed on the
 * command line (any user sees it in ps; the environment variable keeps it out), and a --creds
 * file that others may read.
 */
export function credentialWarnings(engine: Engine, value: string | true, credsFile: string | undefined): string[] {
  const warnings: string[] = [];
  const secret = value === true ? undefined : secretIn(engine, value);
  if (secret !== undefined) {
    const variable = engine === 'nats' ? 'NATS_URL' : 'REDIS_URL';
    warnings.push(
      `mmapipc: warning: the --${engine} URL holds ${secret}, which every user of this host can see in ps; put the URL in ${variable} and give --${engine} without a value, or pass --creds FILE`,
    );
  }
  if (credsFile !== undefined) {
    const mode = statSync(credsFile).mode & 0o777;
    const readers = [mode & 0o040 ? 'its group' : '', mode & 0o004 ? 'everyone' : ''].filter(Boolean).join(' and ');
    if (readers !== '') {
      warnings.push(`mmapipc: ${credsFile}: warning: the credentials file is readable by ${readers} (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`);
    }
  }
  return warnings;
}

/** A URL for display, with any password or token replaced by '***'. */
export function redactUrl(url: string): string {
  return url
    .replace(/\/\/([^@/]*)@/g, (_, credentials: string) => `//${credentials.includes(':') ? `${credentials.split(':')[0]}:***` : '***'}@`)
    .replace(/([?&]password=)[^&]*/g, '$1***');
}

/** Reads `--creds FILE`: NATS credentials, or `user:password`, or a token / password. */
function readCreds(file: string): { raw: Uint8Array; user?: string; secret?: string; nats: boolean } {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new UsageError(`option '--creds' cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const text = raw.toString('utf8');
  if (text.includes('-----BEGIN NATS USER JWT-----')) return { raw, nats: true };
  const line = text.split(/\r?\n/)[0]!.trim();
  if (line === '') throw new UsageError(`option '--creds' found no credentials in '${file}' (expected user:password, a token, or a NATS credentials file)`);
  const colon = line.indexOf(':');
  return colon < 0 ? { raw, secret: line, nats: false } : { raw, user: line.slice(0, colon), secret: line.slice(colon + 1), nats: false };
}

export function parseNatsTarget(url: string, credsFile: string | undefined): NatsTarget {
  const expected = 'a NATS URL such as nats://127.0.0.1:4222 (several separated by commas)';
  const servers: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  for (const part of url.split(',').map((item) => item.trim())) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(part) ? part : `nats://${part}`;
    let parsed: URL;
    try {
      parsed = new URL(withScheme);
    } catch {
      throw badUrl('nats', url, expected);
    }
    if (!['nats:', 'tls:'].includes(parsed.protocol) || parsed.hostname === '' || (parsed.pathname !== '' && parsed.pathname !== '/')) {
      throw badUrl('nats', url, expected);
    }
    if (parsed.username !== '' && parsed.password !== '') {
      user = decodeURIComponent(parsed.username);
      pass = decodeURIComponent(parsed.password);
    } else if (parsed.username !== '') {
      token = decodeURIComponent(parsed.username);
    }
    servers.push(`${parsed.protocol}//${parsed.host}`);
  }
  if (servers.length === 0) throw badUrl('nats', url, expected);
  const target = { servers, user, pass, token, display: servers.join(',') };
  if (credsFile === undefined) return target;
  const creds = readCreds(credsFile);
  if (creds.nats) return { ...target, creds: creds.raw };
  return creds.user === undefined ? { ...target, token: creds.secret } : { ...target, user: creds.user, pass: creds.secret };
}

export function parseRedisTarget(url: string, credsFile: string | undefined): RedisTarget {
  const expected = 'a Redis URL such as redis://127.0.0.1:6379/0, rediss://..., unix:///path/redis.sock or a socket path';
  let target: RedisTarget;
  if (url.startsWith('/')) {
    target = { path: url, db: 0, tls: false, display: `unix://${url}` };
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badUrl('redis', url, expected);
    }
    const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
    const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
    const dbText = parsed.searchParams.get('db') ?? parsed.pathname.replace(/^\//, '');
    if (parsed.protocol === 'unix:' || parsed.protocol === 'redis+unix:') {
      if (parsed.pathname === '') throw badUrl('redis', url, expected);
      const db = Number(parsed.searchParams.get('db') ?? 0);
      if (!Number.isInteger(db) || db < 0) throw badUrl('redis', url, expected);
      target = { path: decodeURIComponent(parsed.pathname), username, password: password ?? parsed.searchParams.get('password') ?? undefined, db, tls: false, display: `unix://${parsed.pathname}` };
    } else if (parsed.protocol === 'redis:' || parsed.protocol === 'rediss:') {
      const db = dbText === '' ? 0 : Number(dbText);
      if (parsed.hostname === '' || !Number.isInteger(db) || db < 0) throw badUrl('redis', url, expected);
      const port = parsed.port === '' ? 6379 : Number(parsed.port);
      target = {
        host: parsed.hostname.replace(/^\[|\]$/g, ''),
        port,
        username,
        password,
        db,
        tls: parsed.protocol === 'rediss:',
        display: `${parsed.protocol}//${parsed.host}/${db}`,
      };
    } else {
      throw badUrl('redis', url, expected);
    }
  }
  if (credsFile === undefined) return target;
  const creds = readCreds(credsFile);
  if (creds.nats) throw new UsageError(`option '--creds' got a NATS credentials file for Redis; give a file with user:password or a password`);
  return { ...target, username: creds.user ?? target.username, password: creds.secret };
}
