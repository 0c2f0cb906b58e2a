"""Write an op operator in Python: ``op map -w 4 --protocol json -- python3 score.py``.

op runs this program as persistent child processes and speaks ``--protocol json`` with it
over stdin and stdout: it writes ``{"id":N,"record":R}`` (``"records":[...]`` under op
batch), one per line, and reads back ``{"id":N,"out":V}`` or ``{"id":N,"error":"..."}``.

    from opkit import run

    def setup(ctx):               # once per child: ctx.config, ctx.rank, ctx.world, ctx.worker_id
        ctx.threshold = ctx.config.get("threshold", 0.5)

    def handle(record, ctx):      # return the result; raise to fail this record only
        return {**record, "ok": record["score"] > ctx.threshold}

    run(handle, setup=setup)      # run(..., concurrency=8) for an async def handle

The same file serves op map, filter, slice and batch (op says which in OP_COMMAND):
map writes the returned value (None drops the record), filter keeps the record when the
value is truthy (Python's truthiness), slice and batch write each element of the returned
iterable. A handler that raises fails its record alone: op retries it (--retries), then
dead-letters it with the exception's type, message and the traceback's last frame.

With ``op map --side NAME=FILE --protocol json``, ``ctx.side`` is ``{NAME: value}`` and
``ctx.side_version`` its version: each request carries ``"sideVersion":V`` and the
values of version V are in the file ``$OP_SIDE_DIR/V.json``, read here when a record
names a newer version than the one held (so under ``concurrency`` > 1 a record may see a
newer version than its own).

Standard library only. While ``run`` runs, ``print()`` and anything else written to
stdout go to stderr, which op forwards line by line: stdout carries the replies alone.
"""

import asyncio
import inspect
import json
import os
import re
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

__all__ = ["Context", "run"]

# 64 KiB reads: a pipe's capacity on Linux, so one read takes what op wrote in one go.
READ_BYTES = 1 << 16
_ID = re.compile(rb'^\s*\{\s*"id"\s*:\s*(\d+)')
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


class Context:
    """What a handler knows about where it runs; setup() may add attributes of its own."""

    def __init__(self):
        self.command = os.environ.get("OP_COMMAND", "map")
        self.config = json.loads(os.environ.get("OP_CONFIG") or "{}")
        self.rank = int(os.environ.get("OP_RANK") or 0)
        self.world = int(os.environ.get("OP_WORLD_SIZE") or 1)
        self.worker_id = int(os.environ.get("OP_WORKER_ID") or 1)
        # --side NAME=FILE (under --protocol json): {NAME: value}, and the version it is.
        self.side = {}
        self.side_version = 0

    def _see_side(self, version):
        """Loads the side inputs' version a record names, when it is newer than the one held.
        op keeps the last 4 versions in OP_SIDE_DIR; one already removed is skipped, and a
        later record brings a newer one."""
        if version is None or version <= self.side_version:
            return
        try:
            with open(os.path.join(os.environ["OP_SIDE_DIR"], f"{int(version)}.json"), encoding="utf-8") as file:
                self.side = json.load(file)
        except FileNotFoundError:
            return
        self.side_version = version

    def log(self, *values):
        """A line on stderr; op prefixes it with the child's name."""
        print(*values, file=sys.stderr, flush=True)


def run(handle, setup=None, teardown=None, concurrency=1):
    """Answers op's records until its input ends. ``concurrency`` records run at once:
    an ``async def`` handle on one event loop, a plain one in that many threads."""
    ctx = Context()
    replies = _take_stdout()
    shape = _SHAPES.get(ctx.command)
    if shape is None:
        raise SystemExit(f"opkit: OP_COMMAND={ctx.command!r} is not one of map, filter, slice, batch")
    is_async = inspect.iscoroutinefunction(handle)
    if concurrency <= 1 and not is_async:
        if setup is not None:
            _finish(setup(ctx))
        _serve_in_order(handle, ctx, shape, replies)
        if teardown is not None:
            _finish(teardown(ctx))
        return

    async def main():
        # setup, the records and teardown share one event loop (a client session made in setup works in handle).
        if setup is not None:
            await _maybe(setup(ctx))
        await _serve_concurrently(handle, ctx, shape, replies, max(1, int(concurrency)), is_async)
        if teardown is not None:
            await _maybe(teardown(ctx))

    asyncio.run(main())


async def _maybe(value):
    return await value if inspect.isawaitable(value) else value


def _finish(value):
    """A sync handler's setup or teardown may still be async."""
    return asyncio.run(_maybe(value)) if inspect.isawaitable(value) else value


def _take_stdout():
    """Keeps stdout for replies and points fd 1 (and sys.stdout) at stderr."""
    sys.stdout.flush()
    replies = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return replies


def _write(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lines(fd):
    """The input in runs of whole lines, one run per read."""
    held = b""
    while True:
        data = os.read(fd, READ_BYTES)
        if not data:
            if held.strip():
                yield [held]
            return
        data = held + data
        cut = data.rfind(b"\n")
        if cut < 0:
            held = data
            continue
        held = data[cut + 1:]
        yield data[:cut].split(b"\n")


def _requests(lines, fail, ctx):
    """The (id, record) of each request line (``record`` is a batch under op batch); blank
    lines are skipped, and a line that is not JSON gives its error reply to ``fail``. The
    side version a request names is loaded before its record is handed on."""
    for line in lines:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            ctx._see_side(request.get("sideVersion"))
            id_ = request["id"]
            record = request["records"] if "records" in request else request.get("record")
        except Exception as error:
            fail(_unreadable(line, error))
            continue
        yield id_, record


def _reply(id_, out, shape):
    try:
        return '{"id":%d,"out":%s}\n' % (id_, _encode(shape(out)))
    except Exception as error:  # a result that is not JSON fails its record
        return _error(id_, error)


def _error(id_, error):
    reply = {"id": id_, "error": str(error) or type(error).__name__, "type": type(error).__name__}
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        reply["at"] = f"{_short(last.filename)}:{last.lineno} in {last.name}"
    return json.dumps(reply, ensure_ascii=False) + "\n"


def _unreadable(line, error):
    """A request that is not JSON (its record was not): fails that record if its id can be read."""
    match = _ID.match(line)
    if match is None:
        raise SystemExit(f"opkit: a request without an id: {line[:80]!r}")
    return _error(int(match.group(1)), error)


def _short(path):
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _serve_in_order(handle, ctx, shape, replies):
    for lines in _lines(0):
        out = []
        for id_, record in _requests(lines, out.append, ctx):
            try:
                result = handle(record, ctx)
            except Exception as error:
                out.append(_error(id_, error))
                continue
            out.append(_reply(id_, result, shape))
        # One write per read: op gets the replies of a whole chunk at once.
        _write(replies, "".join(out).encode())


async def _serve_concurrently(handle, ctx, shape, replies, concurrency, is_async):
    loop = asyncio.get_running_loop()
    pool = None if is_async else ThreadPoolExecutor(concurrency)
    slots = asyncio.Semaphore(concurrency)
    done = []
    flush_scheduled = False
    running = set()

    def flush():
        nonlocal flush_scheduled
        flush_scheduled = False
        if done:
            data = "".join(done).encode()
            done.clear()
            _write(replies, data)

    def finished(reply):
        nonlocal flush_scheduled
        done.append(reply)
        # Replies that complete in the same turn of the loop go out in one write.
        if not flush_scheduled:
            flush_scheduled = True
            loop.call_soon(flush)

    async def one(id_, record):
        async with slots:
            try:
                if is_async:
                    result = await handle(record, ctx)
                else:
                    result = await loop.run_in_executor(pool, handle, record, ctx)
            except Exception as error:
                finished(_error(id_, error))
                return
            finished(_reply(id_, result, shape))

    queue = asyncio.Queue()

    def read():
        for lines in _lines(0):
            loop.call_soon_threadsafe(queue.put_nowait, lines)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    reader = loop.run_in_executor(ThreadPoolExecutor(1), read)
    while True:
        lines = await queue.get()
        if lines is None:
            break
        for id_, record in _requests(lines, finished, ctx):
            task = asyncio.ensure_future(one(id_, record))
            running.add(task)
            task.add_done_callback(running.discard)
    await reader
    if running:
        await asyncio.gather(*running)
    flush()
    if pool is not None:
        pool.shutdown()


def _as_map(value):
    return value


def _as_filter(value):
    return bool(value)


def _as_many(value):
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(f"handle returned a {type(value).__name__}, not an iterable of records")
    return list(value)


_SHAPES = {"map": _as_map, "filter": _as_filter, "slice": _as_many, "batch": _as_many}
