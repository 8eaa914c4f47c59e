/** `--lang <en|ko>`: the language of the tutorial's human lines (see texts.ts). */
import { Option, type Command } from 'commander';
import { DEFAULT_LANG, LANGS } from './texts.js';

export function addLangOption(command: Command): Command {
  return command.addOption(
    new Option('--lang <lang>', "language of the human lines: en, or ko for the tutorial's own Korean lines").choices(LANGS).default(DEFAULT_LANG),
  );
}
