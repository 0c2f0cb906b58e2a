import { fillTemplate, type FillValues } from './fill-template.js';
import { parseTemplate, type Template } from './parse-template.js';

/** `sh -c SCRIPT op-each VALUES…`: $0 names us in the shell's own messages. */
const SHELL_NAME = 'op-each';

/** CMD ARG… parsed once per run; filled once per job. */
export interface ArgvPlan {
  /** Words before the templates: `sh -c SCRIPT op-each` with --shell, else nothing. */
  prefix: string[];
  templates: Template[];
}

/**
 * Without --shell every word is a template. With it, the script is passed to sh as is and
 * only the words after it are filled: the values reach the script as "$1"…, never as text
 * of the script, so nothing a record holds is ever parsed by the shell.
 */
export function planArgv(command: readonly string[], shell: boolean): ArgvPlan {
  if (!shell) return { prefix: [], templates: command.map(parseTemplate) };
  const [script = '', ...args] = command;
  return { prefix: ['sh', '-c', script, SHELL_NAME], templates: args.map(parseTemplate) };
}

export function fillArgv(plan: ArgvPlan, values: FillValues): string[] {
  const argv = plan.prefix.slice();
  for (const template of plan.templates) argv.push(fillTemplate(template, values));
  return argv;
}
