import { Chalk } from 'chalk';
import { NO_COLOR } from '../../src/cli/output.js';

describe('NO_COLOR stands in for chalk at level 0 without loading it', () => {
  const chalk = new Chalk({ level: 0 });
  test.each([
    ['red', (c: typeof chalk) => c.red('text')],
    ['bold', (c: typeof chalk) => c.bold('a', 'b')],
    ['red.bold', (c: typeof chalk) => c.red.bold('nested')],
    ['dim.cyan.bgYellow', (c: typeof chalk) => c.dim.cyan.bgYellow('x')],
    ['hex()', (c: typeof chalk) => c.hex('#ff0000').bold('y')],
    ['a number', (c: typeof chalk) => c.green(42 as unknown as string)],
  ])('%s gives what chalk gives', (_name, style) => {
    expect(style(NO_COLOR)).toBe(style(chalk));
  });

  test('reports level 0, as the commands check before passing FORCE_COLOR on', () => {
    expect(NO_COLOR.level).toBe(0);
  });
});
