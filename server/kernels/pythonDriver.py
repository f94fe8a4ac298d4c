# AGB Local python kernel driver: a tiny Jupyter-like REPL.
#
# Protocol (one JSON object per line):
#   requests  on fd 0: {"code": str, "count": int}
#                      {"interrupt": int}: KeyboardInterrupt in the execution with that count, if
#                      it is still running (a reader thread handles it while user code runs)
#   events    on fd 3: {"type": "stdout"|"stderr", "chunk": str}
#                      {"type": "result", "data": {mime: value}, "isMainResult": bool}
#                      {"type": "end", "error": {"name", "value", "traceback"} | null}
# fd 0 is swapped for /dev/null before user code runs so `input()` cannot eat the protocol,
# and user output goes through sys.stdout/sys.stderr replacements that emit events (ordered
# with the end event). Raw writes to fds 1/2 (subprocesses) are collected by the host.
import ast, asyncio, base64, inspect, io, json, linecache, os, queue, signal, sys, threading, traceback

_proto_in = os.fdopen(os.dup(0), 'r', encoding='utf-8')
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
_lock = threading.Lock()


def _emit(obj):
    data = (json.dumps(obj, ensure_ascii=False) + '\n').encode('utf-8', 'surrogatepass')
    with _lock:
        view = memoryview(data)
        while view:
            view = view[os.write(3, view):]


class _EventStream(io.TextIOBase):
    """Line-buffered text stream: one event per completed line (plus the tail at flush)."""

    def __init__(self, name):
        self._name = name
        self._buf = ''
        self._lock = threading.RLock()
        self._timer = None

    @property
    def encoding(self):
        return 'utf-8'

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not %s' % type(s).__name__)
        with self._lock:
            self._buf += s
            cut = self._buf.rfind('\n')
            if cut >= 0:
                chunk, self._buf = self._buf[:cut + 1], self._buf[cut + 1:]
                _emit({'type': self._name, 'chunk': chunk})
            if self._buf and self._timer is None:
                # A partial line (a prompt, a progress bar) goes out shortly even without a newline.
                self._timer = threading.Timer(0.1, self._flush_partial)
                self._timer.daemon = True
                self._timer.start()
        return len(s)

    def _flush_partial(self):
        with self._lock:
            self._timer = None
            self._flush_locked()

    def _flush_locked(self):
        if self._buf:
            chunk, self._buf = self._buf, ''
            _emit({'type': self._name, 'chunk': chunk})

    def flush(self):
        with self._lock:
            self._flush_locked()


sys.stdout = _EventStream('stdout')
sys.stderr = _EventStream('stderr')

_MIME_REPRS = (
    ('_repr_html_', 'text/html'),
    ('_repr_markdown_', 'text/markdown'),
    ('_repr_svg_', 'image/svg+xml'),
    ('_repr_png_', 'image/png'),
    ('_repr_jpeg_', 'image/jpeg'),
    ('_repr_latex_', 'text/latex'),
    ('_repr_json_', 'application/json'),
)


def _mime_bundle(value):
    bundle = {'text/plain': repr(value)}
    for attr, mime in _MIME_REPRS:
        method = getattr(value, attr, None)
        if not callable(method):
            continue
        try:
            out = method()
        except Exception:
            continue
        if out is None:
            continue
        if isinstance(out, tuple):  # (data, metadata) form
            out = out[0]
        if isinstance(out, bytes):
            out = base64.b64encode(out).decode('ascii')
        bundle[mime] = out
    return bundle


def display(*values):
    for value in values:
        _emit({'type': 'result', 'data': _mime_bundle(value), 'isMainResult': False})


_globals = {'__name__': '__main__', '__builtins__': __builtins__, 'display': display}
_loop = asyncio.new_event_loop()
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _run(code_obj):
    if code_obj.co_flags & inspect.CO_COROUTINE:
        return _loop.run_until_complete(eval(code_obj, _globals))
    return eval(code_obj, _globals)


def _execute(code, count):
    filename = '<cell-%d>' % count
    # Registered so tracebacks can show the offending source lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    tree = ast.parse(code, filename, 'exec')
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    _run(compile(tree, filename, 'exec', flags=_FLAGS))
    if last is not None:
        value = _run(compile(last, filename, 'eval', flags=_FLAGS))
        if value is not None:
            _globals['_'] = value
            _emit({'type': 'result', 'data': _mime_bundle(value), 'isMainResult': True})


def _user_traceback(exc):
    tb = exc.__traceback__
    # Drop the driver's own frames: the user only wrote the cell.
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith('<cell-'):
        tb = tb.tb_next
    if isinstance(exc, SyntaxError):
        return ''.join(traceback.format_exception_only(type(exc), exc))
    return ''.join(traceback.format_exception(type(exc), exc, tb))


_requests = queue.Queue()
_state = threading.Lock()
_current = None  # count of the execution in progress
_MAIN = threading.main_thread().ident


def _on_sigint(signum, frame):
    if _current is not None:  # only ever inside an execution (see the main loop)
        raise KeyboardInterrupt


signal.signal(signal.SIGINT, _on_sigint)


def _read_requests():
    for line in _proto_in:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        if 'interrupt' in req:
            with _state:
                if _current is not None and _current == req.get('interrupt'):
                    signal.pthread_kill(_MAIN, signal.SIGINT)  # wakes a blocking call too
            continue
        _requests.put(req)
    _requests.put(None)


threading.Thread(target=_read_requests, daemon=True).start()


def _serve(req):
    global _current
    count = int(req.get('count', 0))
    with _state:
        _current = count
    try:
        _execute(req.get('code', ''), count)
        return None
    except BaseException as exc:  # SystemExit/KeyboardInterrupt must not kill the kernel
        return {
            'name': type(exc).__name__,
            'value': str(exc),
            'traceback': _user_traceback(exc),
        }
    finally:
        with _state:
            _current = None


while True:
    _req = _requests.get()
    if _req is None:
        break
    try:
        _error = _serve(_req)
    except KeyboardInterrupt:  # an interrupt that landed just after the user code returned
        with _state:
            _current = None
        _error = {'name': 'KeyboardInterrupt', 'value': '', 'traceback': 'KeyboardInterrupt\n'}
    if _error is not None:
        sys.stderr.write(_error['traceback'])
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.stdin is None or sys.stdin.closed:  # exit()/quit() close stdin on the way out
        sys.stdin = open(os.devnull, 'r')
    _emit({'type': 'end', 'error': _error})
