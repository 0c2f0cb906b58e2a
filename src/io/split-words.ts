import { UsageError } from '../core/errors.js';

/**
 * Splits a command line into argv words without a shell, so nothing in it is ever
 * expanded or run: no `$VAR`, globs, `~`, pipes or redirections. The quoting rule is a
 * small part of the POSIX shell's: blanks separate words; 'single quotes' keep everything
 * up to the next ' as written; "double quotes" do too, except that \" and \\ stand for "
 * and \; outside quotes a backslash keeps the next character as written. `''` is an
 * empty word. An unclosed quote is a usage error.
 */
export function splitWords(text: string, label: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (char === ' ' || char === '\t' || char === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (char === "'") {
      const end = text.indexOf("'", at + 1);
      if (end < 0) throw new UsageError(`${label}: unclosed ' in: ${text}`);
      word += text.slice(at + 1, end);
      at = end;
    } else if (char === '"') {
      at = readDoubleQuoted(text, at + 1, (part) => (word += part), label);
    } else if (char === '\\' && at + 1 < text.length) {
      word += text[++at];
    } else {
      word += char;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Returns the index of the closing quote. */
function readDoubleQuoted(text: string, from: number, add: (part: string) => void, label: string): number {
  for (let at = from; at < text.length; at++) {
    const char = text[at]!;
    if (char === '"') return at;
    if (char === '\\' && (text[at + 1] === '"' || text[at + 1] === '\\')) add(text[++at]!);
    else add(char);
  }
  throw new UsageError(`${label}: unclosed " in: ${text}`);
}
