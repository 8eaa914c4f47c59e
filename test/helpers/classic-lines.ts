/**
 * The lines the tutorial's two programs print, as printf formats: facts about their output, kept
 * here as the project's own test data. `mmapipc --lang ko` must print exactly these (lang.test.ts),
 * and test/fixtures/classic.c is compiled with them (classic.test.ts), so every exchange with C
 * is compared byte for byte. The ring's capacity appears as the literal 100 the programs print.
 */

/** The file-based sender and receiver (send, receive and demo with --lang ko; classic.c). */
export const MESSAGE_LINES = {
  senderStart: '송신자: 메시지 전송 시작\n',
  /** The text of message number %d, as the sender puts it in a slot. */
  message: '메시지 #%d: Hello!',
  /** Message number, then messages waiting after it was sent. */
  sent: '전송: 메시지 #%d (버퍼: %d/100)\n',
  senderDone: '송신자 완료\n',
  receiverStart: '수신자: 메시지 수신 시작\n',
  /** The message, then messages still waiting once it is taken. */
  received: '수신: %s (버퍼: %d/100)\n',
  receiverDone: '수신자 완료\n',
} as const;

/** The anonymous-memory counter (counter --lang ko). The log lines are English in the original too. */
export const COUNTER_LINES = {
  title: '익명 mmap 공유 메모리 통신 시작\n',
  rule: '===================================\n',
  childStart: '자식 프로세스: PID %d 시작\n',
  /** pid, counter before, counter after. */
  childLog: 'Child PID %d: %d -> %d',
  childStep: '자식: 카운터 %d -> %d\n',
  childDone: '자식 프로세스 종료\n',
  parentStart: '부모 프로세스: PID %d 시작\n',
  parentLog: 'Parent PID %d: %d -> %d',
  parentStep: '부모: 카운터 %d -> %d\n',
  parentDone: '부모 프로세스 작업 완료\n',
  finalTitle: '\n=== 최종 결과 ===\n',
  final: '최종 카운터 값: %d\n',
  logTitle: '\n=== 실행 로그 ===\n',
} as const;

/** printf for the %d and %s these formats use. */
export function cFormat(format: string, ...args: Array<number | string>): string {
  let next = 0;
  const result = format.replace(/%[ds]/g, () => String(args[next++]));
  if (next !== args.length) throw new Error(`format ${JSON.stringify(format)} takes ${next} arguments, got ${args.length}`);
  return result;
}

/** A regular expression matching exactly the lines `format` prints (without its newlines), capturing each %d and %s. */
export function formatPattern(format: string): RegExp {
  const body = format
    .replace(/^\n+|\n+$/g, '')
    .split(/(%[ds])/)
    .map((part) => (part === '%d' ? '(-?\\d+)' : part === '%s' ? '(.*)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** `#define NAME "format"` for each line, a C header to compile test/fixtures/classic.c with. */
export function cHeader(lines: Record<string, string>): string {
  const literal = (text: string) => `"${text.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n')}"`;
  return Object.entries(lines)
    .map(([name, format]) => `#define LINE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()} ${literal(format)}\n`)
    .join('');
}
