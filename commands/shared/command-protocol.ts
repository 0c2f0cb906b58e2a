/** What a reply line means, per command (DESIGN.md section 2). */
const REPLY: Record<'map' | 'filter' | 'slice' | 'batch', string> = {
  map: 'the reply line is the output record, written as the child wrote it; an empty line drops the record (counted as dropped)',
  filter: 'the reply line is any JSON value, and the record is kept, as read, when that value is truthy by JavaScript’s rules',
  slice: 'the reply line is a JSON array of output records (null: none)',
  batch: 'the reply line is a JSON array of the batch’s output records',
};

/**
 * The paragraphs of a handler command's description about a command after `--`: how it
 * runs, both protocols and the faults, so the man pages and the README carry them.
 */
export function commandProtocol(kind: 'map' | 'filter' | 'slice' | 'batch'): string {
  return `Instead of HANDLER, a program in any language may follow --: op ${kind} -w 4 -- python3 score.py --model small. Its words are the argv, with no shell. It runs as -w N persistent child processes (default 1), each leading its own process group, with OP_RANK, OP_WORLD_SIZE, OP_WORKER_ID (1..N), OP_COMMAND (${kind}), OP_CONFIG (the --config JSON), PYTHONUNBUFFERED=1 and PYTHONPATH starting with opkit's python/ folder in its environment. Its stderr is forwarded line by line, each line whole and prefixed [op ${kind} exec#2]; the last 20 lines go into the dead letters of its failures.

--protocol lines (the default) fits any program that reads lines and writes lines, jq -c --unbuffered included. op writes one record per line${kind === 'batch' ? ' (here one JSON array per batch)' : ''}, many lines per write, and the child writes exactly one line back per line it read, in the same order; under op ${kind} ${REPLY[kind]}. op checks that each reply is JSON without parsing the records. A reply that is not JSON, or one when no record is in flight, breaks the protocol. Replies are matched by their order, so a child must answer every line and flush each answer (Python's print() does, under the PYTHONUNBUFFERED=1 op sets).

--protocol json is for programs that want per-record errors or their own concurrency. op writes {"id":N,"${kind === 'batch' ? 'records":[…]' : 'record":R'}} and the child answers {"id":N,"out":V} or {"id":N,"error":"message"} (with "type" and "at", which go into the dead letter, when it knows them), in any order. V means what a JS handler's result means under op ${kind}${kind === 'map' ? ', with null standing for undefined (the record is dropped)' : ''}; an error fails the record's attempt: it is retried (--retries), then dead-lettered with that message. The package's python/opkit.py speaks it: from opkit import run; run(handle, setup=setup), and run(handle, concurrency=8) for an async def handle. With --side NAME=FILE (which needs --protocol json), each request also carries "sideVersion":V, and the side inputs of version V are the JSON object {"NAME": value, …} in the file OP_SIDE_DIR/V.json (op keeps the last 4 versions); python/opkit.py reads it for ctx.side and ctx.side_version.

A child that exits, closes its stdout or breaks the protocol is replaced, after a backoff from 100 ms doubling to 5 s, and the records it had in flight are run again one at a time, so only a record that breaks a child again fails. More than --max-restarts N replacements within a minute (default 10) stop the run with exit 1 and the child's last stderr lines. With --timeout MS, a record with no reply MS after it became the child's oldest fails an attempt; the child gets SIGTERM, SIGKILL 2 s later, and its other records go to a fresh child without using an attempt. A command that cannot start (not found, not executable, or ending or writing to stdout before it reads its input) is a usage error (exit 2) before any input is read. At the end of input each child's stdin is closed and it has --stop-timeout ms to exit before it is killed, with a warning; a child that exits with a failing status then fails the run. On SIGINT or SIGTERM the records in flight finish, the children are stopped and op exits 130 or 143; no child outlives op.`;
}
