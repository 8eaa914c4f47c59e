/**
 * The human lines of the tutorial's programs, kept together, in English (the default) and in
 * the tutorial's own Korean (`--lang ko`). The Korean lines are its programs' output character
 * for character (test/e2e/lang.test.ts compares them with the printf formats kept as test data
 * in test/helpers/classic-lines.ts); the capacity the C programs print as a literal 100 is the
 * ring's capacity here, 100 by default.
 */
import type { CounterRole } from '../counter-run/reporter.js';

export const LANGS = ['en', 'ko'] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG: Lang = 'en';

/** The counter command's lines (anonymous_mmap.c). */
export interface CounterTexts {
  readonly title: (children: number, lock: boolean) => string;
  readonly rule: string;
  readonly started: (role: CounterRole, pid: number) => string;
  readonly step: (role: CounterRole, before: number, after: number) => string;
  readonly done: (role: CounterRole, pid: number) => string;
  readonly holding: (role: CounterRole, pid: number, ms: number) => string;
  readonly finalTitle: string;
  readonly final: (value: number) => string;
  /** Undefined: nothing to print (the tutorial prints no comparison when nothing was lost). */
  readonly comparison: (expected: number, got: number, unitSteps: boolean) => string | undefined;
  readonly logTitle: string;
  readonly logLine: (role: CounterRole, pid: number, before: number, after: number) => string;
  readonly logDropped: (dropped: number, capacity: number) => string;
}

export interface Texts {
  readonly demoMessage: (index: number) => string;
  readonly senderStart: string;
  /** `index`: the message's place in this run, from 0 (the tutorial's loop variable i). */
  readonly sent: (message: string, index: number, occupancy: number, capacity: number) => string;
  readonly senderDone: string;
  readonly receiverStart: string;
  /** `occupancy`: messages still waiting after this one was taken. */
  readonly received: (message: string, occupancy: number, capacity: number) => string;
  readonly receiverDone: string;
  readonly counter: CounterTexts;
}

/** The log lines are English in the C code too, whatever the language of the rest. */
const logLine = (role: CounterRole, pid: number, before: number, after: number) =>
  `${role === 'parent' ? 'Parent' : 'Child'} PID ${pid}: ${before} -> ${after}`;

export const ENGLISH: Texts = {
  demoMessage: (index) => `Message #${index}: Hello!`,
  senderStart: 'sender: sending messages',
  sent: (message, _index, occupancy, capacity) => `sent: ${message} (buffer: ${occupancy}/${capacity})`,
  senderDone: 'sender done',
  receiverStart: 'receiver: receiving messages',
  received: (message, occupancy, capacity) => `received: ${message} (buffer: ${occupancy}/${capacity})`,
  receiverDone: 'receiver done',
  counter: {
    title: (children, lock) =>
      `anonymous shared memory counter: parent and ${children} ${children === 1 ? 'child' : 'children'}, ${lock ? 'semaphore in a memfd' : 'NO semaphore'}`,
    rule: '===================================',
    started: (role, pid) => `${role}: PID ${pid} started`,
    step: (role, before, after) => `${role}: counter ${before} -> ${after}`,
    done: (role, pid) => `${role}: PID ${pid} done`,
    holding: (role, pid, ms) => `${role}: PID ${pid} holding the semaphore for ${ms} ms (test hook)`,
    finalTitle: '=== final result ===',
    final: (value) => `final counter value: ${value}`,
    /** With steps of 1 the missing amount is the number of lost updates; otherwise it is an amount. */
    comparison: (expected, got, unitSteps) =>
      expected === got
        ? `expected ${expected}, got ${got}: no updates lost`
        : `expected ${expected}, got ${got}: ${expected - got} ${unitSteps ? 'updates lost' : 'lost to overwritten updates'}`,
    logTitle: '=== log ===',
    logLine,
    logDropped: (dropped, capacity) => `(${dropped} later steps not logged: the log keeps the first ${capacity})`,
  },
};

const KOREAN_ROLE: Record<CounterRole, string> = { parent: '부모', child: '자식' };

export const KOREAN: Texts = {
  demoMessage: (index) => `메시지 #${index}: Hello!`,
  senderStart: '송신자: 메시지 전송 시작',
  sent: (_message, index, occupancy, capacity) => `전송: 메시지 #${index} (버퍼: ${occupancy}/${capacity})`,
  senderDone: '송신자 완료',
  receiverStart: '수신자: 메시지 수신 시작',
  received: (message, occupancy, capacity) => `수신: ${message} (버퍼: ${occupancy}/${capacity})`,
  receiverDone: '수신자 완료',
  counter: {
    title: () => '익명 mmap 공유 메모리 통신 시작',
    rule: '===================================',
    started: (role, pid) => `${KOREAN_ROLE[role]} 프로세스: PID ${pid} 시작`,
    step: (role, before, after) => `${KOREAN_ROLE[role]}: 카운터 ${before} -> ${after}`,
    done: (role) => (role === 'parent' ? '부모 프로세스 작업 완료' : '자식 프로세스 종료'),
    holding: (role, pid, ms) => `${KOREAN_ROLE[role]}: PID ${pid} 세마포어를 ${ms} ms 동안 보유 (테스트 훅)`,
    finalTitle: '=== 최종 결과 ===',
    final: (value) => `최종 카운터 값: ${value}`,
    // Not in the tutorial, which never loses an update; printed only when some were lost.
    comparison: (expected, got, unitSteps) =>
      expected === got ? undefined : `예상 ${expected}, 실제 ${got}: ${expected - got}${unitSteps ? '회의 갱신 손실' : '만큼 덮어쓴 갱신으로 손실'}`,
    logTitle: '=== 실행 로그 ===',
    logLine,
    logDropped: (dropped, capacity) => `(이후 ${dropped}단계는 기록되지 않음: 로그는 처음 ${capacity}개만 보관)`,
  },
};

export function textsFor(lang: Lang | undefined): Texts {
  return lang === 'ko' ? KOREAN : ENGLISH;
}
