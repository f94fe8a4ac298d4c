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


# The host stops a kernel whose event line passes 16 MiB (the pipe is writable by user code too,
# so it cannot tell a long line from a flood): keep every event well under that.
_EVENT_MAX = 8 << 20


def _encode(obj):
    return (json.dumps(obj, ensure_ascii=False) + '\n').encode('utf-8', 'surrogatepass')


def _cut(text, keep=1000000):
    """Long text cut with a note, under the host's default maxOutputBytes (1 MiB) so the note shows."""
    if not isinstance(text, str) or len(text) <= keep:
        return text
    return text[:keep] + '\u2026[truncated %d characters]' % (len(text) - keep)


def _emit(obj):
    data = _encode(obj)
    if len(data) > _EVENT_MAX:
        kind = obj.get('type')
        if kind in ('stdout', 'stderr'):
            # In pieces (the host keeps the first maxOutputBytes of a stream and counts the rest).
            chunk = obj['chunk']
            step = max(1, len(chunk) * (_EVENT_MAX // 2) // len(data))
            for at in range(0, len(chunk), step):
                _emit({'type': kind, 'chunk': chunk[at:at + step]})
            return
        if kind == 'result':
            main = obj.get('isMainResult', False)
            bundle = {mime: (_cut(value) if mime.startswith('text/') else value) for mime, value in obj.get('data', {}).items()}
            data = _encode({'type': 'result', 'data': bundle, 'isMainResult': main})
            if len(data) > _EVENT_MAX:
                note = '\u2026[result dropped: %d bytes, over the %d MiB one result may take]' % (len(data), _EVENT_MAX >> 20)
                data = _encode({'type': 'result', 'data': {'text/plain': note}, 'isMainResult': main})
        elif kind == 'end' and obj.get('error'):
            error = dict(obj['error'])
            error['value'], error['traceback'] = _cut(str(error.get('value') or '')), _cut(str(error.get('traceback') or ''))
            data = _encode({'type': 'end', 'error': error})
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

# ---- Rich output, as IPython formats it (PROTOCOL: result items keyed by MIME type) ----

# IPython's DisplayFormatter order; values of the byte formats travel base64-encoded.
_FORMATTERS = (
    ('text/html', '_repr_html_'),
    ('text/markdown', '_repr_markdown_'),
    ('image/svg+xml', '_repr_svg_'),
    ('image/png', '_repr_png_'),
    ('image/jpeg', '_repr_jpeg_'),
    ('text/latex', '_repr_latex_'),
    ('application/json', '_repr_json_'),
    ('application/javascript', '_repr_javascript_'),
    ('application/pdf', '_repr_pdf_'),
)
_BINARY = ('image/png', 'image/jpeg', 'application/pdf')


def _formatter_error(obj, attr):
    # IPython prints a failing repr method's traceback and shows the other formats.
    exc = sys.exc_info()[1]
    sys.stderr.write('Error in %s.%s:\n%s' % (type(obj).__name__, attr, _user_traceback(exc)))


def _method(obj, attr):
    if inspect.isclass(obj):  # a class is displayed by its repr, not by its unbound methods
        return None
    try:
        method = getattr(obj, attr, None)
    except Exception:
        return None
    return method if callable(method) else None


def _is_figure(obj):
    return type(obj).__module__.startswith('matplotlib.') and hasattr(obj, 'savefig') and hasattr(obj, 'canvas')


_shown_figures = set()  # ids of the figures displayed by the cell in progress


def _figure_png(fig):
    _shown_figures.add(id(fig))
    buf = io.BytesIO()
    fig.savefig(buf, format='png', bbox_inches='tight')  # as matplotlib-inline does
    return buf.getvalue()


def _clean(mime, value):
    """A JSON-ready bundle value: base64 for the byte formats, text for the others."""
    if mime in _BINARY or (mime.startswith('image/') and mime != 'image/svg+xml'):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(value)).decode('ascii')
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode('utf-8', 'replace')
    if mime == 'application/json' or mime.endswith('+json'):
        json.dumps(value)  # raises (and the format is dropped) when it is not JSON data
        return value
    return value if isinstance(value, (str, dict, list, int, float, bool)) or value is None else str(value)


def _format(obj, include=None, exclude=None):
    """IPython's MIME bundle of obj: _repr_mimebundle_ first, then the _repr_*_ methods, then repr."""
    data = {}
    method = _method(obj, '_repr_mimebundle_')
    if method is not None:
        try:
            out = method(include=include, exclude=exclude)
            if isinstance(out, tuple):  # (data, metadata)
                out = out[0]
            if isinstance(out, dict):
                data.update(out)
        except Exception:
            _formatter_error(obj, '_repr_mimebundle_')
    for mime, attr in _FORMATTERS:
        if mime in data:
            continue
        method = _method(obj, attr)
        if method is None:
            continue
        try:
            out = method()
        except Exception:
            _formatter_error(obj, attr)
            continue
        if isinstance(out, tuple):
            out = out[0]
        if out is not None:
            data[mime] = out
    if _is_figure(obj) and 'image/png' not in data:
        try:
            data['image/png'] = _figure_png(obj)
        except Exception:
            _formatter_error(obj, 'savefig')
    if 'text/plain' not in data:
        try:
            data['text/plain'] = repr(obj)
        except Exception:
            _formatter_error(obj, '__repr__')
            data['text/plain'] = '<%s object>' % type(obj).__name__
    bundle = {}
    for mime, value in data.items():
        if not isinstance(mime, str) or (include and mime not in include) or (exclude and mime in exclude):
            continue
        try:
            bundle[mime] = _clean(mime, value)
        except Exception:
            sys.stderr.write('Dropped %s output of %s: not JSON data\n' % (mime, type(obj).__name__))
    return bundle


def _publish(bundle, main=False):
    if not bundle:
        return
    sys.stdout.flush()  # output printed before a display comes before it
    sys.stderr.flush()
    _emit({'type': 'result', 'data': bundle, 'isMainResult': main})


def _show(obj, include=None, exclude=None, raw=False):
    if raw and isinstance(obj, dict):
        _publish({m: _clean(m, v) for m, v in obj.items()})
        return
    method = _method(obj, '_ipython_display_')
    if method is not None:
        method()  # the object displays itself
        return
    _publish(_format(obj, include, exclude))


class DisplayHandle(object):
    """What display(..., display_id=...) returns: update() shows the new value as a new output."""

    def __init__(self, display_id=None):
        self.display_id = display_id or os.urandom(16).hex()

    def display(self, obj, **kwargs):
        display(obj, **kwargs)

    def update(self, obj, **kwargs):
        display(obj, **kwargs)


def display(*objs, include=None, exclude=None, metadata=None, transient=None, display_id=None, raw=False, clear=False, **kwargs):
    """IPython's display(): each object becomes a result with all the MIME formats it has."""
    for obj in objs:
        _show(obj, include, exclude, raw)
    if display_id:
        return DisplayHandle(None if display_id is True else display_id)
    return None


def _show_figures():
    """Shows and closes every open pyplot figure, as matplotlib-inline does after a cell or at plt.show()."""
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return
    try:
        from matplotlib._pylab_helpers import Gcf
        figures = [manager.canvas.figure for manager in Gcf.get_all_fig_managers()]
    except Exception:
        return
    try:
        for fig in figures:
            if id(fig) in _shown_figures:  # already displayed in this cell (e.g. its last expression)
                continue
            try:
                png = _figure_png(fig)
            except Exception:
                _formatter_error(fig, 'savefig')
                continue
            _publish({'image/png': base64.b64encode(png).decode('ascii'), 'text/plain': repr(fig)})
    finally:
        plt.close('all')


def _hook_pyplot(plt):
    def show(*args, **kwargs):
        _show_figures()

    show.__doc__ = getattr(plt.show, '__doc__', None)
    plt.show = show


def _hook_ipython_display(module):
    # The real IPython prints display() arguments as text when no IPython shell runs: route
    # its display functions to this kernel instead.
    for name, value in (('display', display), ('publish_display_data', lambda data, metadata=None, **kw: _publish({m: _clean(m, v) for m, v in data.items()})),
                        ('clear_output', lambda wait=False: None), ('update_display', lambda obj, *, display_id, **kw: display(obj, **kw))):
        if name in vars(module):  # not hasattr: IPython.core.display warns on deprecated names
            setattr(module, name, value)
    handle = vars(module).get('DisplayHandle')
    if isinstance(handle, type):
        handle.display = DisplayHandle.display
        handle.update = DisplayHandle.update


class _HookedLoader(object):
    """Runs a hook on a module right after it is loaded (before anyone can import names from it)."""

    def __init__(self, inner, hook):
        self._inner = inner
        self._hook = hook

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        try:
            self._hook(module)
        except Exception:
            pass

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _PostImportHooks(object):
    """First on sys.meta_path: finds hooked modules through the other finders and wraps their loader."""

    hooks = {
        'matplotlib.pyplot': _hook_pyplot,
        'IPython.core.display_functions': _hook_ipython_display,
        'IPython.core.display': _hook_ipython_display,
    }

    def find_spec(self, name, path=None, target=None):
        hook = self.hooks.get(name)
        if hook is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
                    spec.loader = _HookedLoader(spec.loader, hook)
                return spec
        return None


def _ipython_shim():
    """Module namespaces of a small IPython.display look-alike, for when IPython is not installed."""

    class DisplayObject(object):
        _read_flags = 'r'

        def __init__(self, data=None, url=None, filename=None, metadata=None):
            if isinstance(data, str) and url is None and filename is None:
                if data.startswith(('http://', 'https://')) and '\n' not in data:
                    url, data = data, None
                elif '\n' not in data and len(data) < 4096 and os.path.isfile(data):
                    filename, data = data, None
            self.data, self.url, self.filename = data, url, filename
            self.metadata = dict(metadata or {})
            self.reload()
            self._check_data()

        def __repr__(self):
            return '<IPython.core.display.%s object>' % type(self).__name__

        def _check_data(self):
            pass

        def _data_and_metadata(self):
            return (self.data, self.metadata) if self.metadata else self.data

        def reload(self):
            if self.filename is not None:
                with open(self.filename, self._read_flags) as f:
                    self.data = f.read()
            elif self.url is not None and getattr(self, 'embed', True):
                import urllib.request
                with urllib.request.urlopen(self.url) as response:
                    data = response.read()
                self.data = data if 'b' in self._read_flags else data.decode('utf-8', 'replace')

    class TextDisplayObject(DisplayObject):
        def _check_data(self):
            if self.data is not None and not isinstance(self.data, str):
                raise TypeError('%s expects text, not %r' % (type(self).__name__, self.data))

    class HTML(TextDisplayObject):
        def _repr_html_(self):
            return self._data_and_metadata()

        def __html__(self):
            return self._repr_html_()

    class Markdown(TextDisplayObject):
        def _repr_markdown_(self):
            return self._data_and_metadata()

    class Math(TextDisplayObject):
        def _repr_latex_(self):
            s = r'$\displaystyle %s$' % self.data.strip('$')
            return (s, self.metadata) if self.metadata else s

    class Latex(TextDisplayObject):
        def _repr_latex_(self):
            return self._data_and_metadata()

    class Pretty(TextDisplayObject):
        def __repr__(self):
            return self.data

    class Javascript(TextDisplayObject):
        def __init__(self, data=None, url=None, filename=None, lib=None, css=None):
            super().__init__(data=data, url=url, filename=filename)

        def _repr_javascript_(self):
            return self._data_and_metadata()

    class SVG(DisplayObject):
        _read_flags = 'rb'

        def _check_data(self):
            data = self.data
            if isinstance(data, bytes):
                data = data.decode('utf-8', 'replace')
            if isinstance(data, str):
                at = data.find('<svg')  # drop an XML prolog or doctype, as IPython does
                data = data[at:] if at > 0 else data
            self.data = data

        def _repr_svg_(self):
            return self._data_and_metadata()

    class JSON(DisplayObject):
        def __init__(self, data=None, url=None, filename=None, expanded=False, metadata=None, root='root', **kwargs):
            self.metadata = {'expanded': expanded, 'root': root}
            self.metadata.update(metadata or {})
            self.metadata.update(kwargs)
            super().__init__(data=data, url=url, filename=filename, metadata=self.metadata)

        def _check_data(self):
            if isinstance(self.data, (bytes, str)):
                self.data = json.loads(self.data)
            if not isinstance(self.data, (dict, list)):
                raise TypeError('JSON expects a dict or a list, not %r' % type(self.data).__name__)

        def _repr_json_(self):
            return self.data, self.metadata

    class Image(DisplayObject):
        _read_flags = 'rb'
        _FORMATS = {'png': 'image/png', 'jpeg': 'image/jpeg', 'jpg': 'image/jpeg', 'gif': 'image/gif', 'webp': 'image/webp'}

        def __init__(self, data=None, url=None, filename=None, format=None, embed=None, width=None, height=None, retina=False, unconfined=False, metadata=None, alt=None):
            if isinstance(data, bytes):
                pass
            elif filename is None and url is None and isinstance(data, str):
                if data.startswith(('http://', 'https://')):
                    url, data = data, None
                else:
                    filename, data = data, None
            source = filename or url or ''
            if format is None and '.' in source:
                format = source.rsplit('.', 1)[-1].lower()
            self.embed = (url is None) if embed is None else embed
            self.format = format
            self.width, self.height, self.alt = width, height, alt
            super().__init__(data=data, url=url, filename=filename, metadata=metadata)

        def _check_data(self):
            data = self.data
            if isinstance(data, bytes):
                if data[:8] == b'\x89PNG\r\n\x1a\n':
                    self.format = 'png'
                elif data[:3] == b'\xff\xd8\xff':
                    self.format = 'jpeg'
                elif data[:6] in (b'GIF87a', b'GIF89a'):
                    self.format = 'gif'
            if self.embed and self.format not in self._FORMATS:
                raise ValueError('Cannot embed the %r image format' % self.format)

        @property
        def mimetype(self):
            return self._FORMATS.get(self.format)

        def _metadata(self):
            md = dict(self.metadata)
            if self.width:
                md['width'] = self.width
            if self.height:
                md['height'] = self.height
            if self.alt:
                md['alt'] = self.alt
            return md

        def _repr_mimebundle_(self, include=None, exclude=None):
            if self.embed:
                return {self.mimetype: self.data}, self._metadata()
            attrs = ''.join(' %s="%s"' % (k, v) for k, v in (('width', self.width), ('height', self.height), ('alt', self.alt)) if v)
            return {'text/html': '<img src="%s"%s/>' % (self.url, attrs)}, {}

        def _repr_png_(self):
            return self.data if self.embed and self.format == 'png' else None

        def _repr_jpeg_(self):
            return self.data if self.embed and self.format in ('jpeg', 'jpg') else None

    class IFrame(object):
        def __init__(self, src, width, height, extras=None, **kwargs):
            self.src, self.width, self.height, self.extras, self.params = src, width, height, extras or [], kwargs

        def _repr_html_(self):
            from urllib.parse import urlencode
            params = ('?' + urlencode(self.params)) if self.params else ''
            return '<iframe width="%s" height="%s" src="%s%s" frameborder="0" allowfullscreen %s></iframe>' % (
                self.width, self.height, self.src, params, ' '.join(self.extras))

    def _display_as(mime):
        def show(*objs, raw=False, metadata=None):
            for obj in objs:
                if raw:
                    _publish({mime: _clean(mime, obj)})
                else:
                    display(obj, include=[mime])
        show.__name__ = 'display_' + mime.split('/')[-1].split('+')[0]
        return show

    def publish_display_data(data, metadata=None, source=None, *, transient=None, **kwargs):
        _publish({m: _clean(m, v) for m, v in data.items()})

    def update_display(obj, *, display_id, **kwargs):
        display(obj, **kwargs)

    def clear_output(wait=False):
        pass  # outputs of a run are a list that only grows

    names = dict(
        display=display, DisplayHandle=DisplayHandle, DisplayObject=DisplayObject, TextDisplayObject=TextDisplayObject,
        HTML=HTML, Markdown=Markdown, Math=Math, Latex=Latex, Pretty=Pretty, Javascript=Javascript, SVG=SVG, JSON=JSON,
        Image=Image, IFrame=IFrame, publish_display_data=publish_display_data, update_display=update_display,
        clear_output=clear_output,
        display_html=_display_as('text/html'), display_markdown=_display_as('text/markdown'),
        display_svg=_display_as('image/svg+xml'), display_png=_display_as('image/png'),
        display_jpeg=_display_as('image/jpeg'), display_latex=_display_as('text/latex'),
        display_json=_display_as('application/json'), display_javascript=_display_as('application/javascript'),
        display_pretty=_display_as('text/plain'),
    )
    for value in names.values():
        if isinstance(value, type):
            value.__module__ = 'IPython.core.display'
    return {
        'IPython': dict(display=display, get_ipython=lambda: None, version_info=(0, 0, 0, 'agb-local-shim'), __version__='0.0.0+agb-local-shim'),
        'IPython.display': names,
        'IPython.core': {},
        'IPython.core.display': names,
        'IPython.core.display_functions': names,
    }


class _ShimLoader(object):
    def __init__(self, namespace):
        self._namespace = namespace

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__dict__.update(self._namespace)


class _IPythonShimFinder(object):
    """Last on sys.meta_path: serves the shim only when no installed IPython was found first."""

    _modules = None

    def find_spec(self, name, path=None, target=None):
        if name != 'IPython' and not name.startswith('IPython.'):
            return None
        if self._modules is None:
            _IPythonShimFinder._modules = _ipython_shim()
        namespace = self._modules.get(name)
        if namespace is None:
            return None
        import importlib.machinery
        package = name in ('IPython', 'IPython.core')
        spec = importlib.machinery.ModuleSpec(name, _ShimLoader(namespace), is_package=package)
        if package:
            spec.submodule_search_locations = []
        return spec


sys.meta_path.insert(0, _PostImportHooks())
sys.meta_path.append(_IPythonShimFinder())


def _last_expression_muted(code, node):
    """IPython shows no result when the last expression ends with ';'."""
    lines = code.splitlines(True)
    end_line, end_col = getattr(node, 'end_lineno', None), getattr(node, 'end_col_offset', None)
    if end_line is None or end_line > len(lines):
        return False
    rest = lines[end_line - 1].encode('utf-8')[end_col:].decode('utf-8', 'replace') + ''.join(lines[end_line:])
    rest = '\n'.join(line.split('#', 1)[0] for line in rest.splitlines())
    return rest.strip().startswith(';')


_globals = {'__name__': '__main__', '__builtins__': __builtins__, 'display': display}
_loop = asyncio.new_event_loop()
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _run(code_obj):
    if code_obj.co_flags & inspect.CO_COROUTINE:
        return _loop.run_until_complete(eval(code_obj, _globals))
    return eval(code_obj, _globals)


class UsageError(Exception):
    """IPython's error for a magic it does not know."""


def _system(command):
    sys.stdout.flush()
    sys.stderr.flush()
    import subprocess
    subprocess.run(command, shell=True)  # output goes to fds 1/2, collected like any subprocess's


def _magic_missing(name):
    raise UsageError('Line magic function `%%%s` not found (AGB Local runs plain Python with `!cmd`, `%%pip` and `%%matplotlib` only).' % name)


# Reached from rewritten cells by import, so the user's namespace stays clean.
_helpers = type(sys)('_agb_kernel')
_helpers.system, _helpers.magic_missing, _helpers.UsageError = _system, _magic_missing, UsageError
sys.modules['_agb_kernel'] = _helpers

_MAGIC_LINE = __import__('re').compile(r'^([ \t]*)([%!])(.*)$')


def _rewrite_magics(code):
    """Notebook lines as Python, one line for one line: `!cmd` and `%pip ...` run in a shell,
    `%matplotlib ...` does nothing (figures always show), any other magic raises UsageError."""
    lines = []
    for line in code.split('\n'):
        match = _MAGIC_LINE.match(line)
        if match is None:
            lines.append(line)
            continue
        indent, kind, rest = match.groups()
        name, _, arg = rest.partition(' ')
        if kind == '!':
            call = 'system(%r)' % rest
        elif name == 'matplotlib':
            call = 'UsageError'
        elif name == 'pip':
            call = 'system(%r)' % ('%s -m pip %s' % (sys.executable, arg))
        else:
            call = 'magic_missing(%r)' % name
        lines.append('%s__import__("_agb_kernel").%s' % (indent, call))
    return '\n'.join(lines)


def _parse(code, filename):
    """The cell's syntax tree; a cell that is not Python is tried once more with its magics rewritten."""
    try:
        return ast.parse(code, filename, 'exec')
    except SyntaxError:
        rewritten = _rewrite_magics(code)
        if rewritten == code:
            raise
        try:
            return ast.parse(rewritten, filename, 'exec')
        except SyntaxError:
            pass
        raise


def _execute(code, count):
    filename = '<cell-%d>' % count
    # Registered so tracebacks can show the offending source lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    _shown_figures.clear()
    tree = _parse(code, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        node = tree.body.pop()
        last = ast.Expression(node.value)
        muted = _last_expression_muted(code, node)
    try:
        _run(compile(tree, filename, 'exec', flags=_FLAGS))
        if last is not None:
            value = _run(compile(last, filename, 'eval', flags=_FLAGS))
            if value is not None and not muted:
                _globals['_'] = value
                if _method(value, '_ipython_display_') is not None:
                    value._ipython_display_()
                else:
                    _publish(_format(value), main=True)
    finally:
        # Figures drawn in the cell and not shown yet are shown now, also when the cell failed.
        _show_figures()


def _user_traceback(exc):
    tb = exc.__traceback__
    # Drop the driver's own frames: start at the cell's code, or (an error in a library's repr
    # method called by the driver) after the driver's frames.
    cell = tb
    while cell is not None and not cell.tb_frame.f_code.co_filename.startswith('<cell-'):
        cell = cell.tb_next
    if cell is not None:
        tb = cell
    while tb is not None and tb.tb_frame.f_code.co_filename == '<string>':
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
            # IPython shows a UsageError as one line, without a traceback.
            'traceback': 'UsageError: %s\n' % exc if isinstance(exc, UsageError) else _user_traceback(exc),
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
