# AGB Local sandbox agent: one per session, started lazily, the parent of every process of the
# session (shell commands, kernels, and whatever they leave running in the background). Under
# bubblewrap it runs inside the session's one long-lived sandbox (its own pid namespace), so a
# process started in the background by one `shell` call is still there for the next one.
#
# Protocol: one JSON object per line; requests on fd 0, replies on fd 1 (createAgentSandbox.ts).
#   {"op":"spawn","id":N,"argv":[...],"cwd":str,"env":{...},"stdin":bool,"fds":[1,2,3],"cap":int|null}
#       starts argv in a new session (setsid: its own process group, pgid = pid). Child fds in
#       `fds` are pipes whose output is forwarded (at most `cap` bytes each; the rest counted),
#       the others /dev/null. stdin: a pipe fed by "write"/"close", else /dev/null.
#   {"op":"write","id":N,"data":b64}  {"op":"close","id":N}   the job's stdin
#   {"op":"signal","id":N,"signal":int,"group":bool}         kill(2) / killpg(2)
#   {"op":"detach","id":N}            stop forwarding its output (pipes are still drained)
#   {"op":"shutdown"}                 SIGKILL every descendant, then exit (as does EOF on fd 0)
#   {"op":"fs","rid":N,"call":...}    a file operation, performed here (sandboxAgentFs.py); a line
#                                     with "bin":N is followed by N raw bytes (file data), both ways
# Replies: {"op":"ready","pid"} {"op":"spawned","id","pid"} {"op":"failed","id","message"}
#          {"op":"data","id","fd","data":b64} {"op":"eof","id","fd","dropped"}
#          {"op":"exit","id","code","signal"}  {"op":"fsp","rid",...} {"op":"fsr","rid","ok"|"error"}
#
# It makes itself a child subreaper (Linux): orphans such as `setsid cmd &` become its children,
# so it reaps them (a zombie would still answer `kill -0`) and they stay in its process tree,
# which is how the session's processes are counted and killed.
import base64, json, os, selectors, signal, sys

try:
    import fcntl
    _DUPFD_CLOEXEC = getattr(fcntl, 'F_DUPFD_CLOEXEC', 1030)
except ImportError:  # pragma: no cover
    fcntl = None

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def _harden():
    """Makes this process a child subreaper and non-dumpable. The session's code runs as the
    same uid as the agent: while dumpable, it could ptrace-stop the agent (every call would
    hang), take its protocol pipes with pidfd_getfd or /proc/<pid>/fd and forge replies or log
    lines. Non-dumpable, /proc/<pid>/fd and ptrace need CAP_SYS_PTRACE, which nothing in the
    sandbox has. execve resets the flag, so the processes the agent starts are ordinary.
    Descriptors above 2 that an outer process leaked to us are closed (only the protocol's
    stdio is ours)."""
    keep = _sel.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
    if not sys.platform.startswith('linux'):
        return  # no prctl (AGB Local runs sessions unisolated there anyway)
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        # Refuse to run exposed: the server sees the agent exit and reports it.
        sys.stderr.write('agb-local-agent: prctl(PR_SET_DUMPABLE) failed: errno %d\n' % ctypes.get_errno())
        sys.exit(1)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


_sel = selectors.DefaultSelector()
_jobs = {}     # id -> Job
_by_pid = {}   # pid -> Job, until reaped
_MY_PID = os.getpid()


def _send(obj, raw=None):
    """Writes one message; `raw` bytes follow its line (announced by "bin")."""
    if raw is not None:
        obj['bin'] = len(raw)
    data = (json.dumps(obj, separators=(',', ':')) + '\n').encode('utf-8')
    try:
        for part in (data, raw or b''):
            view = memoryview(part)
            while view:
                view = view[os.write(1, view):]
    except OSError:  # the server is gone
        _shutdown()


class Job:
    def __init__(self, jid, cap):
        self.id = jid
        self.pid = None
        self.cap = cap
        self.out = {}        # child fd -> our read end
        self.sent = {}
        self.dropped = {}
        self.stdin = None    # our write end
        self.pending = bytearray()
        self.close_stdin = False
        self.detached = False
        self.exited = False

    def done(self):
        return self.exited and not self.out

    def forget_if_done(self):
        if self.done():
            self.drop_stdin()
            _jobs.pop(self.id, None)

    def drop_stdin(self):
        if self.stdin is not None:
            try:
                _sel.unregister(self.stdin)
            except (KeyError, ValueError):
                pass
            os.close(self.stdin)
            self.stdin = None
        self.pending = bytearray()


def _spawn(req):
    jid = req['id']
    job = Job(jid, req.get('cap'))
    argv = [str(a) for a in req.get('argv') or []]
    env = {str(k): str(v) for k, v in (req.get('env') or {}).items()}
    cwd = req.get('cwd') or '/'
    if not argv:
        return _send({'op': 'failed', 'id': jid, 'message': 'empty argv'})
    theirs = {}
    if req.get('stdin'):
        r, w = os.pipe()
        theirs[0], job.stdin = r, w
    for fd in req.get('fds') or [1, 2]:
        r, w = os.pipe()
        theirs[int(fd)], job.out[int(fd)] = w, r
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        try:
            signal.set_wakeup_fd(-1)
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            targets = {0: theirs.get(0, null), 1: theirs.get(1, null), 2: theirs.get(2, null)}
            if 3 in theirs:
                targets[3] = theirs[3]
            # Copy the sources above the target range first, so no dup2 clobbers a later source.
            high = {t: fcntl.fcntl(s, _DUPFD_CLOEXEC, 10) for t, s in targets.items()}
            for t, s in high.items():
                os.dup2(s, t)  # inheritable; everything else is close-on-exec
            os.chdir(cwd)
            for name in ('SIGPIPE', 'SIGXFSZ', 'SIGCHLD', 'SIGINT'):
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.execvpe(argv[0], argv, env)
        except BaseException as e:
            try:
                os.write(err_w, ('%s: %s' % (argv[0], getattr(e, 'strerror', None) or e)).encode('utf-8', 'replace'))
            finally:
                os._exit(127)
    os.close(err_w)
    for fd in theirs.values():
        os.close(fd)
    failure = b''
    while True:
        chunk = os.read(err_r, 4096)
        if not chunk:
            break
        failure += chunk
    os.close(err_r)
    if failure:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        for fd in job.out.values():
            os.close(fd)
        if job.stdin is not None:
            os.close(job.stdin)
        return _send({'op': 'failed', 'id': jid, 'message': failure.decode('utf-8', 'replace')})
    job.pid = pid
    _jobs[jid] = job
    _by_pid[pid] = job
    for fd, r in job.out.items():
        os.set_blocking(r, False)
        job.sent[fd] = 0
        job.dropped[fd] = 0
        _sel.register(r, selectors.EVENT_READ, ('out', job, fd))
    if job.stdin is not None:
        os.set_blocking(job.stdin, False)
    _send({'op': 'spawned', 'id': jid, 'pid': pid})


def _on_output(job, fd):
    """Reads once from a job's pipe; False when nothing was there (EAGAIN)."""
    r = job.out[fd]
    try:
        data = os.read(r, 65536)
    except BlockingIOError:
        return False
    except OSError:
        data = b''
    if not data:
        _sel.unregister(r)
        os.close(r)
        del job.out[fd]
        if not job.detached:
            _send({'op': 'eof', 'id': job.id, 'fd': fd, 'dropped': job.dropped[fd]})
        job.forget_if_done()
        return True
    if job.detached:
        return True
    if job.cap is not None:
        room = max(0, job.cap - job.sent[fd])
        if len(data) > room:
            job.dropped[fd] += len(data) - room
            data = data[:room]
        if not data:
            return True
    job.sent[fd] += len(data)
    _send({'op': 'data', 'id': job.id, 'fd': fd, 'data': base64.b64encode(data).decode('ascii')})
    return True


def _drain(job):
    """Forwards what a job left in its pipes (and their EOF) before its exit is reported, so the
    server has all of a command's output when it learns the command ended. Pipes that a
    background job still holds stop at EAGAIN; a bound keeps a chatty one from stalling us."""
    for fd in list(job.out):
        for _ in range(64):
            if fd not in job.out or not _on_output(job, fd):
                break


def _flush_stdin(job):
    if job.stdin is None:
        return
    try:
        while job.pending:
            n = os.write(job.stdin, job.pending)
            del job.pending[:n]
    except BlockingIOError:
        pass
    except OSError:  # EPIPE: the reader is gone
        job.drop_stdin()
        return
    want = bool(job.pending)
    registered = True
    try:
        _sel.get_key(job.stdin)
    except KeyError:
        registered = False
    if want and not registered:
        _sel.register(job.stdin, selectors.EVENT_WRITE, ('in', job, 0))
    elif not want:
        if registered:
            _sel.unregister(job.stdin)
        if job.close_stdin:
            job.drop_stdin()


def _reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        job = _by_pid.pop(pid, None)
        if job is None:
            continue  # an adopted orphan
        _drain(job)
        job.exited = True
        if os.WIFSIGNALED(status):
            _send({'op': 'exit', 'id': job.id, 'code': None, 'signal': os.WTERMSIG(status)})
        else:
            _send({'op': 'exit', 'id': job.id, 'code': os.WEXITSTATUS(status), 'signal': None})
        job.forget_if_done()


def _descendants():
    """Pids of every process below this one (Linux /proc), zombies excluded."""
    children = {}
    try:
        names = os.listdir('/proc')
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name, 'rb') as f:
                stat = f.read().decode('ascii', 'replace')
        except OSError:
            continue
        fields = stat[stat.rfind(')') + 2:].split()
        if len(fields) < 2 or fields[0] == 'Z':
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [_MY_PID]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _shutdown():
    """SIGKILLs every process of the session (they are all below us), then exits."""
    import time
    for job in list(_jobs.values()) + list(_by_pid.values()):
        if job.pid:
            for kill in (os.killpg, os.kill):
                try:
                    kill(job.pid, signal.SIGKILL)
                except OSError:
                    pass
    for _ in range(100):
        pids = _descendants()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
    os._exit(0)


def _request(req):
    op = req.get('op')
    if op == 'fs':
        return _fs_request(req)  # sandboxAgentFs.py
    if op == 'spawn':
        return _spawn(req)
    if op == 'shutdown':
        return _shutdown()
    job = _jobs.get(req.get('id'))
    if job is None:
        return
    if op == 'write':
        if job.stdin is not None and not job.close_stdin:
            job.pending += base64.b64decode(req.get('data') or '')
            _flush_stdin(job)
    elif op == 'close':
        job.close_stdin = True
        _flush_stdin(job)
    elif op == 'signal':
        if job.pid:
            sig = int(req.get('signal') or signal.SIGKILL)
            try:
                (os.killpg if req.get('group') else os.kill)(job.pid, sig)
            except OSError:
                if req.get('group'):
                    try:
                        os.kill(job.pid, sig)
                    except OSError:
                        pass
    elif op == 'detach':
        job.detached = True


def main():
    _harden()
    os.set_blocking(0, False)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: _shutdown())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _sel.register(0, selectors.EVENT_READ, ('req', None, 0))
    _sel.register(wake_r, selectors.EVENT_READ, ('wake', None, 0))
    _send({'op': 'ready', 'pid': _MY_PID})
    buf = bytearray()
    scanned = 0  # bytes of buf known to hold no newline
    while True:
        for key, _ in _sel.select():
            kind, job, fd = key.data
            if kind == 'out':
                if job.out.get(fd) == key.fd:
                    _on_output(job, fd)
            elif kind == 'in':
                _flush_stdin(job)
            elif kind == 'wake':
                try:
                    while os.read(wake_r, 512):
                        pass
                except OSError:
                    pass
                _reap()
            else:
                try:
                    chunk = os.read(0, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    _shutdown()
                buf += chunk
                start = 0
                waiting = False  # a request whose raw bytes are not all here yet
                while True:
                    end = buf.find(b'\n', max(scanned, start))
                    if end < 0:
                        break
                    scanned = 0
                    try:
                        req = json.loads(bytes(buf[start:end]))
                    except ValueError:
                        start = end + 1
                        continue
                    if not isinstance(req, dict):
                        start = end + 1
                        continue
                    n = req.get('bin')
                    if isinstance(n, int) and n > 0:
                        if len(buf) - end - 1 < n:
                            waiting = True
                            break
                        req['_bin'] = bytes(buf[end + 1:end + 1 + n])
                        start = end + 1 + n
                    else:
                        start = end + 1
                    _request(req)
                del buf[:start]
                scanned = 0 if waiting else len(buf)
        _reap()


main()
