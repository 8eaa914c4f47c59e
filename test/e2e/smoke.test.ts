import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
afterAll(() => dir.remove());

test('a piped line goes through send and receive unchanged', async () => {
  const file = dir.file('smoke.ring');
  const sent = await runCli(['send', '--file', file], { input: 'hello world\n' });
  expect(sent).toMatchObject({ code: 0, stderr: '' });
  const received = await runCli(['receive', '--file', file, '--count', '1']);
  expect(received).toMatchObject({ code: 0, stdout: 'hello world\n', stderr: '' });
});
