/**
 * Every error mmapipc throws on purpose is an MmapipcError: it carries a literal `name`, the exit
 * code the CLI uses for it, and the thing it is about (`subject`, usually a path). Only the CLI
 * turns these into `process.exit`; the library just throws them.
 */

/** The CLI's exit codes: a stable contract for shell scripts (documented in README.md). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  badRingFile: 3,
  unsafeFile: 4,
  messageTooLarge: 5,
  peerDied: 6,
  /** consumer groups: no such group, the group table is full, the group was removed. */
  group: 7,
  /** `bridge`: the engine (NATS, Redis) cannot be reached or refused the credentials. */
  engineUnavailable: 8,
  /** `bridge`: the engine is reachable but not as the bridge needs it (no such stream, another writer). */
  engineConfig: 9,
  /** `request`: no live server reads the ring's serving group. */
  noResponders: 10,
  /** `request`: the server answered with an error (its text on stderr). */
  errorReply: 11,
  /** `request`: the server died holding the request and no other server took it over. */
  serverDied: 12,
  timeout: 124,
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

/** Each exit code in a few words, for `mmapipc --help` (README.md's table says more; a test keeps them in step). */
export const EXIT_CODE_SUMMARY: Readonly<Record<ExitCodeValue, string>> = {
  [ExitCode.ok]: 'ok',
  [ExitCode.failure]: 'failure',
  [ExitCode.usage]: 'usage',
  [ExitCode.badRingFile]: 'not a valid ring file',
  [ExitCode.unsafeFile]: 'unsafe file',
  [ExitCode.messageTooLarge]: 'message too large',
  [ExitCode.peerDied]: 'a cooperating process died',
  [ExitCode.group]: 'consumer groups (no such group, bad name, conflicting options, table full)',
  [ExitCode.engineUnavailable]: 'engine unreachable (bridge)',
  [ExitCode.engineConfig]: 'engine not usable as asked (bridge)',
  [ExitCode.noResponders]: 'no responders (request)',
  [ExitCode.errorReply]: 'error reply (request)',
  [ExitCode.serverDied]: 'server died (request)',
  [ExitCode.timeout]: 'timeout',
  [ExitCode.sighup]: 'SIGHUP',
  [ExitCode.sigint]: 'SIGINT',
  [ExitCode.sigterm]: 'SIGTERM',
};
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class MmapipcError extends Error {
  override name = 'MmapipcError';
  readonly exitCode: ExitCodeValue = ExitCode.failure;
  /** What the error is about (a path, an option, a process); printed before the reason. */
  readonly subject: string | undefined;

  constructor(message: string, options: { subject?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.subject = options.subject;
  }

  /** The one line the CLI prints after "mmapipc: ". */
  get line(): string {
    return this.subject === undefined ? this.message : `${this.subject}: ${this.message}`;
  }
}

/** A libc call failed. `errno` is the symbolic name (ENOENT, EACCES, ...). */
export class SystemCallError extends MmapipcError {
  override name = 'SystemCallError';
  readonly call: string;
  readonly errno: string;
  readonly errnoNumber: number;

  constructor(call: string, errnoNumber: number, errno: string, sentence: string, subject?: string) {
    super(`${sentence} (${call}: ${errno})`, { subject });
    this.call = call;
    this.errno = errno;
    this.errnoNumber = errnoNumber;
  }
}

/** The file exists but is not a usable ring: foreign, truncated, corrupt, another version. */
export class RingFormatError extends MmapipcError {
  override name = 'RingFormatError';
  override readonly exitCode = ExitCode.badRingFile;
}

/** The path is unsafe to open: a symlink, not a regular file, someone else's, writable by others. */
export class UnsafeFileError extends MmapipcError {
  override name = 'UnsafeFileError';
  override readonly exitCode = ExitCode.unsafeFile;
}

/** Misuse of the CLI or the API: a bad option value, an impossible combination. */
export class UsageError extends MmapipcError {
  override name = 'UsageError';
  override readonly exitCode = ExitCode.usage;
}

export class MessageTooLargeError extends MmapipcError {
  override name = 'MessageTooLargeError';
  override readonly exitCode = ExitCode.messageTooLarge;
  readonly size: number;
  readonly limit: number;

  /** `slot`: the limit is one slot's (the classic layout), not a whole ring's largest message. */
  constructor(size: number, limit: number, subject?: string, remedy = 'or create the ring with more room (--size)', slot = false) {
    const what = slot ? `does not fit a ${limit}-byte slot` : `is larger than the largest message this ring takes (${limit} bytes)`;
    super(`message of ${size} bytes ${what}; shorten it, pass --truncate, ${remedy}`, { subject });
    this.size = size;
    this.limit = limit;
  }
}

/** A consumer group that does not exist, a full group table, or a bad group name. */
export class GroupError extends MmapipcError {
  override name = 'GroupError';
  override readonly exitCode = ExitCode.group;
}

/** A bounded wait ran out. */
export class TimeoutError extends MmapipcError {
  override name = 'TimeoutError';
  override readonly exitCode = ExitCode.timeout;
}

/** A cooperating process died (the counter's child, for example). */
export class PeerDiedError extends MmapipcError {
  override name = 'PeerDiedError';
  override readonly exitCode = ExitCode.peerDied;
}

/** The operation was cut short by SIGINT or SIGTERM. */
export class InterruptedError extends MmapipcError {
  override name = 'InterruptedError';
  readonly signal: 'SIGINT' | 'SIGTERM';
  override readonly exitCode: ExitCodeValue;

  constructor(signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.signal = signal;
    this.exitCode = signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  }
}

/** `bridge`: the engine cannot be reached (bad host, refused, closed) or refused the credentials. */
export class EngineUnavailableError extends MmapipcError {
  override name = 'EngineUnavailableError';
  override readonly exitCode = ExitCode.engineUnavailable;
}

/** `bridge`: the engine answers but its stream or key is not usable as asked. */
export class EngineConfigError extends MmapipcError {
  override name = 'EngineConfigError';
  override readonly exitCode = ExitCode.engineConfig;
}

/** `bridge`: a message that cannot cross (too large for the engine, or for the ring's largest message). */
export class BridgeMessageTooLargeError extends MmapipcError {
  override name = 'BridgeMessageTooLargeError';
  override readonly exitCode = ExitCode.messageTooLarge;
}

/** `bridge`: stored bridge state (a cursor) that belongs to another ring, or to a ring that is gone. */
export class BridgeStateError extends MmapipcError {
  override name = 'BridgeStateError';
}

/** `request`: nobody serves the ring's serving group (no group, or no live member in it). */
export class NoRespondersError extends MmapipcError {
  override name = 'NoRespondersError';
  override readonly exitCode = ExitCode.noResponders;
}

/** `request`: the server handled the request and answered with an error; `text` is its own words. */
export class ErrorReplyError extends MmapipcError {
  override name = 'ErrorReplyError';
  override readonly exitCode = ExitCode.errorReply;
  readonly text: string;

  constructor(text: string, options: { subject?: string } = {}) {
    super(`the server answered with an error: ${text}`, options);
    this.text = text;
  }
}

/** `request`: the server died holding the request, and no server is left to take it over (or it was given up). */
export class ServerDiedError extends MmapipcError {
  override name = 'ServerDiedError';
  override readonly exitCode = ExitCode.serverDied;
}

/** A request's signal aborted, or its ring was closed, before the reply came. */
export class AbortError extends MmapipcError {
  override name = 'AbortError';
}
