/**
 * Stdout carries records alone. A handler's own writes to process.stdout go to stderr,
 * each line prefixed like ctx.log's, as console.log's already do. Returns the undo.
 * Output sinks keep the original write (io/open-sink.ts takes it when opened).
 */
export function redirectStdout(prefix: string): () => void {
  const stdout = process.stdout;
  const original = stdout.write;
  let atLineStart = true;
  stdout.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = text.split('\n');
    let out = '';
    for (let k = 0; k < lines.length; k++) {
      const part = lines[k]!;
      if (part !== '' && atLineStart) out += prefix;
      out += part;
      if (k < lines.length - 1) {
        out += '\n';
        atLineStart = true;
      } else if (part !== '') atLineStart = false;
    }
    const done = typeof encoding === 'function' ? encoding : callback;
    return process.stderr.write(out, done);
  }) as typeof stdout.write;
  return () => {
    stdout.write = original;
  };
}

/** process.exit as Node gave it, for opkit's own use while a handler's is intercepted. */
export const exitProcess: (code?: number) => never = process.exit.bind(process) as (code?: number) => never;

/**
 * A handler on the main thread that calls process.exit() must not end the run silently,
 * with records already mapped but unwritten: the call throws instead, so the record fails
 * ("handler called process.exit(0)") and the run goes on. Returns the undo.
 */
export function interceptExit(): () => void {
  const original = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new Error(`handler called process.exit(${code ?? ''})`);
  }) as typeof process.exit;
  return () => {
    process.exit = original;
  };
}
