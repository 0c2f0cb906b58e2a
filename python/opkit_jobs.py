"""The job runner of `op each`: a small resident process that starts jobs for op.

Starting a process from op's own (Node) process forks a large address space and blocks op's
event loop while it does. This process is small, and CPython starts a job with vfork, so a
job costs a fraction of what it costs from Node (bench/RESULTS.md). op sends one request per
line on stdin, in JSON. Each reply on stdout is one line of JSON, and for a job that ended,
the bytes it counts follow that line: OL bytes of stdout, EL of stderr, TL of stderr's tail.

  start  {"i": ID, "a": ARGV, "c": CWD|null, "n": STDIN|null, "o": CAPTURE_STDOUT,
          "e": CAPTURE_STDERR, "m": MAX_OUTPUT, "t": TIMEOUT_MS|null, "k": KILL_AFTER_MS}
  end    {"x": ID, "g": GRACE_MS}: TERM to the job's group now, KILL after GRACE_MS

  started  {"s": ID, "p": PID}: the job runs, leading process group PID
  ended    {"i": ID, "x": EXIT|null, "s": SIGNAL|null, "ms": MS, "ol": OL, "ot": N,
            "el": EL, "et": N, "tl": TL, "to": TIMED_OUT, "err": ERROR|null}

Every job leads a process group of its own. Its argv is used as given: no shell, ever. Its
stdout (when captured) and stderr are read as they come: the first MAX_OUTPUT bytes are kept
and the rest counted, and the last 4 KiB of stderr are kept for error messages. A job has
ended when it has exited and both pipes are closed. When op goes away (stdin ends), every
job still running and every group a job left behind gets SIGKILL, and this process exits.
"""

import errno
import heapq
import json
import os
import selectors
import signal
import subprocess
import sys
import time

TAIL_BYTES = 4096
READ_BYTES = 65536


class Job:
    __slots__ = ('id', 'proc', 'pid', 'started', 'limit', 'streams', 'tail', 'open', 'status', 'timed_out', 'ending', 'stdin')

    def __init__(self, request, proc, started):
        self.id = request['i']
        self.proc = proc
        self.pid = proc.pid
        self.started = started
        self.limit = request['m']
        # Kept bytes and total bytes, per stream: 'o' stdout, 'e' stderr.
        self.streams = {'o': [bytearray(), 0], 'e': [bytearray(), 0]}
        self.tail = bytearray()
        self.open = 0
        self.status = None
        self.timed_out = False
        self.ending = False
        self.stdin = None


class Runner:
    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.jobs = {}
        self.by_pid = {}
        self.timers = []
        self.timer_seq = 0
        self.lingering = set()
        self.replies = []
        self.control = bytearray()
        self.null_in = os.open(os.devnull, os.O_RDONLY)
        self.null_out = os.open(os.devnull, os.O_WRONLY)
        # SIGCHLD wakes the loop through a pipe; the handler itself does nothing.
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.wake = wake_r
        self.selector.register(wake_r, selectors.EVENT_READ, ('wake', None))
        self.selector.register(0, selectors.EVENT_READ, ('control', None))

    def run(self):
        self.send({'ready': 1})
        self.flush()
        while True:
            timeout = None
            if self.timers:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            for key, _ in self.selector.select(timeout):
                # A descriptor closed earlier in this pass may already serve a new job.
                if self.selector.get_map().get(key.fd) is not key:
                    continue
                kind, job = key.data
                if kind == 'control':
                    if not self.read_control():
                        self.abandon()
                        self.flush()
                        # Nothing is left to finalise: skip the interpreter's shutdown.
                        os._exit(0)
                elif kind == 'wake':
                    # A job exited (SIGCHLD).
                    self.drain_wake()
                    self.reap()
                elif kind == 'stdin':
                    self.feed(key.fd, job)
                else:
                    self.read_stream(key.fd, job, kind)
            self.fire_timers()
            self.flush()

    # Requests from op.

    def read_control(self):
        chunk = os.read(0, READ_BYTES)
        if not chunk:
            return False
        self.control += chunk
        end = self.control.rfind(b'\n')
        if end < 0:
            return True
        lines = bytes(self.control[:end]).split(b'\n')
        del self.control[: end + 1]
        for line in lines:
            if line:
                request = json.loads(line)
                if 'a' in request:
                    self.start(request)
                else:
                    self.end(self.jobs.get(request['x']), request['g'])
        return True

    def start(self, request):
        started = time.monotonic()
        # The job's ends of its pipes, closed here once it has them; and op's ends.
        theirs = []
        ours = []
        try:
            stdin = self.null_in
            if request['n'] is not None:
                stdin, stdin_w = os.pipe()
                theirs.append(stdin)
                ours.append(stdin_w)
            stdout = self.null_out
            if request['o']:
                out_r, stdout = os.pipe()
                theirs.append(stdout)
                ours.append(out_r)
            err_r, stderr = os.pipe()
            theirs.append(stderr)
            ours.append(err_r)
            # restore_signals: a job starts with SIGPIPE and SIGXFSZ at their defaults, as a
            # shell would start it (this process ignores SIGPIPE, and that would be inherited).
            proc = subprocess.Popen(request['a'], stdin=stdin, stdout=stdout, stderr=stderr, cwd=request['c'], start_new_session=True, restore_signals=True)
        except (OSError, ValueError, TypeError) as error:
            for fd in ours:
                os.close(fd)
            # ENOENT, EACCES, …; or a NUL byte in a word. Nothing was started.
            reason = errno.errorcode.get(error.errno, str(error)) if isinstance(error, OSError) else str(error)
            self.send({'i': request['i'], 'x': None, 's': None, 'ms': round((time.monotonic() - started) * 1000), 'ol': 0, 'ot': 0, 'el': 0, 'et': 0, 'tl': 0, 'to': False, 'err': reason})
            return
        finally:
            for fd in theirs:
                os.close(fd)
        job = Job(request, proc, started)
        self.jobs[job.id] = job
        self.by_pid[job.pid] = job
        self.send({'s': job.id, 'p': job.pid})
        if request['o']:
            self.watch(out_r, job, 'o')
        self.watch(err_r, job, 'e')
        if request['n'] is not None:
            job.stdin = memoryview(request['n'].encode('utf-8'))
            os.set_blocking(stdin_w, False)
            self.selector.register(stdin_w, selectors.EVENT_WRITE, ('stdin', job))
            job.open += 1
        if request['t'] is not None:
            self.at(started + request['t'] / 1000, job, 'timeout', request['k'])

    def end(self, job, grace_ms):
        """TERM to the job's group now, KILL after grace_ms; once only."""
        if job is None or job.ending:
            return
        job.ending = True
        kill_group(job.pid, signal.SIGTERM)
        self.at(time.monotonic() + grace_ms / 1000, job, 'kill', 0)

    def abandon(self):
        """op went away: nothing this process started may outlive it."""
        for job in self.jobs.values():
            kill_group(job.pid, signal.SIGKILL)
        for pgid in self.lingering:
            kill_group(pgid, signal.SIGKILL)

    # Jobs' pipes.

    def watch(self, fd, job, kind):
        os.set_blocking(fd, False)
        self.selector.register(fd, selectors.EVENT_READ, (kind, job))
        job.open += 1

    def read_stream(self, fd, job, kind):
        try:
            chunk = os.read(fd, READ_BYTES)
        except BlockingIOError:
            return
        if not chunk:
            self.close(fd, job)
            return
        kept = job.streams[kind]
        kept[1] += len(chunk)
        room = job.limit - len(kept[0])
        if room > 0:
            kept[0] += chunk[:room]
        if kind == 'e':
            job.tail += chunk
            if len(job.tail) > 2 * TAIL_BYTES:
                del job.tail[: len(job.tail) - TAIL_BYTES]

    def feed(self, fd, job):
        try:
            written = os.write(fd, job.stdin)
        except BlockingIOError:
            return
        except OSError:
            # The job closed its stdin without reading it all: its choice, not a failure.
            written = len(job.stdin)
        job.stdin = job.stdin[written:]
        if len(job.stdin) == 0:
            self.close(fd, job)

    def close(self, fd, job):
        self.selector.unregister(fd)
        os.close(fd)
        job.open -= 1
        self.maybe_done(job)

    # Exits and timers.

    def drain_wake(self):
        try:
            while os.read(self.wake, 4096):
                pass
        except BlockingIOError:
            pass

    def reap(self):
        while self.by_pid:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self.by_pid.pop(pid, None)
            if job is None:
                continue
            job.status = status
            # The Popen object must not wait for a pid this loop has reaped.
            job.proc.returncode = os.waitstatus_to_exitcode(status)
            self.maybe_done(job)

    def at(self, when, job, action, arg):
        self.timer_seq += 1
        heapq.heappush(self.timers, (when, self.timer_seq, job, action, arg))

    def fire_timers(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, job, action, arg = heapq.heappop(self.timers)
            if self.jobs.get(job.id) is not job:
                continue
            if action == 'timeout':
                if not job.ending:
                    job.timed_out = True
                    self.end(job, arg)
            else:
                kill_group(job.pid, signal.SIGKILL)

    def maybe_done(self, job):
        if job.status is None or job.open > 0:
            return
        del self.jobs[job.id]
        if job.ending:
            # A job being ended takes whatever it left in its group with it.
            kill_group(job.pid, signal.SIGKILL)
        elif kill_group(job.pid, 0):
            self.lingering.add(job.pid)
        status = job.status
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = signal_name(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else None
        out, err = job.streams['o'], job.streams['e']
        tail = job.tail[-TAIL_BYTES:] if len(job.tail) > TAIL_BYTES else job.tail
        header = {
            'i': job.id,
            'x': code,
            's': sig,
            'ms': round((time.monotonic() - job.started) * 1000),
            'ol': len(out[0]),
            'ot': out[1],
            'el': len(err[0]),
            'et': err[1],
            'tl': len(tail),
            'to': job.timed_out,
            'err': None,
        }
        self.send(header, out[0], err[0], tail)

    # Replies to op.

    def send(self, message, *payload):
        self.replies.append(json.dumps(message, separators=(',', ':')).encode('ascii'))
        self.replies.append(b'\n')
        self.replies.extend(part for part in payload if part)

    def flush(self):
        if not self.replies:
            return
        data = b''.join(self.replies)
        self.replies.clear()
        view = memoryview(data)
        while view:
            written = os.write(1, view)
            view = view[written:]


def kill_group(pgid, sig):
    """Signals every process of group pgid; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return 'SIG%d' % number


if __name__ == '__main__':
    if sys.version_info < (3, 9):
        # op each then starts its jobs itself.
        sys.exit(3)
    # This process lives in a group of its own, so a Ctrl-C at the terminal reaches op alone;
    # op decides how jobs end.
    Runner().run()
