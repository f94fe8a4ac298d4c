# AGB Local sandbox agent, file operations (prepended to sandboxAgent.py; see createAgentSandbox.ts).
#
# Every file operation of a session (the file tools, OSS transfers, context sync) runs here, in
# the session's agent process. Under bubblewrap the agent's `/` is the session root, so the
# kernel resolves every path, symlinks included, inside the session: whatever sandboxed code
# swaps or links at the same moment, an operation can only ever reach the session's own files
# (and the read-only host binds every process of the session sees). Without isolation the
# server passes host paths inside the session directory and nothing is confined.
#
# Protocol (one JSON object per line, as the rest of the agent):
#   {"op":"fs","rid":N,"call":<name>,...arguments}
# replies {"op":"fsr","rid":N,"ok":{...}} or {"op":"fsr","rid":N,"error":{"code":"ENOENT","message":...}},
# optionally preceded by {"op":"fsp","rid":N,...} parts (file bytes, directory entries) so that no
# message gets large. File bytes travel raw: a line with "bin":N is followed by exactly N bytes
# (both ways; shown as [bytes] below). Paths are absolute and already normalised.
#   stat   {path, follow, names?: {passwd, group}}   -> stat fields (+ user/group names)
#   read   {path, offset, length (0: to the end), max} -> {size} [bytes] | {size, tooLarge}; parts [bytes]
#   write  {path, mode: overwrite|append|create_new, keep?} [bytes] -> {} | {h} (keep: more with pwrite)
#   open   {path, first?} -> {h, size} [bytes] | {size, eof} [bytes]   a regular file, for pread;
#          with `first`, its first bytes too, and no handle when that was all of it
#   wopen  {path} -> {h}            a temporary file beside path; close with commit renames it over path
#   pread  {h, offset, length} -> {} [bytes]    pwrite {h} [bytes] -> {}    close {h, commit?} -> {}
#   mkdir  {path}  (with parents)   move {source, destination}   remove {path} (trees too)
#   list   {path} -> {notDir} | {}; parts {entries: [[name, isDir], ...]} (links followed)
#   walk   {path, want: search|snapshot|files, limit, skip, match, maxMatches}
#          -> {top (real path), type, missing?} ; parts {entries}: depth first, name order, links
#          and other mounts (the read-only host binds, /proc, /dev) not entered
#   du     {path, limit} -> {bytes}  allocated below path, links not followed, other mounts not entered
import os
import errno as _errno
import stat as _stat

_FS_CHUNK = 1 << 20        # bytes per message
_FS_PART = 256 * 1024      # entries per message, roughly (by encoded size)
_MAX_HANDLES = 256
_handles = {}              # h -> [fd, temp path or None, target path or None]
_next_handle = [1]


class _FsError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code


def _type(mode):
    if _stat.S_ISREG(mode):
        return 'file'
    if _stat.S_ISDIR(mode):
        return 'directory'
    if _stat.S_ISLNK(mode):
        return 'symlink'
    if _stat.S_ISFIFO(mode):
        return 'fifo'
    if _stat.S_ISSOCK(mode):
        return 'socket'
    if _stat.S_ISCHR(mode):
        return 'char'
    if _stat.S_ISBLK(mode):
        return 'block'
    return 'unknown'


def _stat_fields(st):
    return {'type': _type(st.st_mode), 'size': st.st_size, 'mtimeMs': st.st_mtime_ns / 1e6, 'mode': st.st_mode,
            'uid': st.st_uid, 'gid': st.st_gid, 'ino': st.st_ino}


def _utf16_key(name):
    # JavaScript orders strings by UTF-16 code units: sort the same way.
    return name.encode('utf-16-be', 'surrogatepass')


def _open_regular(path, flags, mode=0o644):
    """Opens without blocking on FIFOs or taking a terminal; only regular files are kept."""
    fd = os.open(path, flags | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, mode)
    try:
        st = os.fstat(fd)
        if _stat.S_ISDIR(st.st_mode):
            raise _FsError('EISDIR', 'is a directory')
        if not _stat.S_ISREG(st.st_mode):
            raise _FsError('ENOTREG', 'not a regular file')
        return fd, st
    except BaseException:
        os.close(fd)
        raise


def _parents(real):
    parent = os.path.dirname(real)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _handle(fd, temp=None, target=None):
    if len(_handles) >= _MAX_HANDLES:
        os.close(fd)
        if temp:
            _unlink_quietly(temp)
        raise _FsError('EMFILE', 'too many open transfers in this session')
    h = _next_handle[0]
    _next_handle[0] += 1
    _handles[h] = [fd, temp, target]
    return h


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _id_names(path):
    names = {}
    try:
        fd, _ = _open_regular(path, os.O_RDONLY)
    except (OSError, _FsError):
        return names
    try:
        text = os.read(fd, 65536).decode('utf-8', 'replace')
    finally:
        os.close(fd)
    for line in text.split('\n'):
        parts = line.split(':')
        if len(parts) > 2 and parts[0] and parts[2].isdigit():
            names.setdefault(int(parts[2]), parts[0])
    return names


def _fs_stat(req, part):
    st = os.stat(req['path']) if req.get('follow', True) else os.lstat(req['path'])
    out = _stat_fields(st)
    names = req.get('names')
    if names:
        out['user'] = _id_names(names['passwd']).get(st.st_uid)
        out['group'] = _id_names(names['group']).get(st.st_gid)
    return out


def _fs_read(req, part):
    fd, st = _open_regular(req['path'], os.O_RDONLY)
    try:
        size = st.st_size
        start = min(int(req.get('offset') or 0), size)
        length = int(req.get('length') or 0)
        end = min(size, start + length) if length > 0 else size
        if end - start > int(req['max']):
            return {'size': size, 'tooLarge': end - start}
        at = start
        first = None
        while at < end:
            chunk = os.pread(fd, min(_FS_CHUNK, end - at), at)
            if not chunk:
                break  # the file shrank meanwhile
            at += len(chunk)
            if first is None and at >= end:
                first = chunk  # all of it in one piece: goes with the reply
            else:
                part({}, chunk)
        return {'size': size}, first
    finally:
        os.close(fd)


_WRITE_FLAGS = {
    'overwrite': os.O_WRONLY | os.O_CREAT,
    'append': os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    'create_new': os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def _fs_write(req, part):
    mode = req.get('mode') or 'overwrite'
    if mode not in _WRITE_FLAGS:
        raise _FsError('EINVAL', 'unknown mode ' + str(mode))
    # The real path (links followed inside the sandbox), so a dangling link gets its target's parents.
    real = os.path.realpath(req['path'])
    _parents(real)
    fd, _ = _open_regular(real, _WRITE_FLAGS[mode])
    try:
        if mode == 'overwrite':
            os.ftruncate(fd, 0)  # only once it is known to be a regular file
        _write_all(fd, req.get('_bin') or b'')
    except BaseException:
        os.close(fd)
        raise
    if req.get('keep'):
        return {'h': _handle(fd)}
    os.close(fd)
    return {}


def _fs_open(req, part):
    fd, st = _open_regular(req['path'], os.O_RDONLY)
    first = min(int(req.get('first') or 0), _FS_CHUNK)
    if not first:
        return {'h': _handle(fd), 'size': st.st_size}
    try:
        data = os.pread(fd, first, 0)
    except BaseException:
        os.close(fd)
        raise
    if len(data) < first:  # all of it: no handle to keep
        os.close(fd)
        return {'size': st.st_size, 'eof': True}, data
    return {'h': _handle(fd), 'size': st.st_size}, data


def _fs_wopen(req, part):
    real = os.path.realpath(req['path'])
    _parents(real)
    if os.path.isdir(real):
        raise _FsError('EISDIR', 'is a directory')
    temp = os.path.join(os.path.dirname(real), '.agb-%s.part' % os.urandom(6).hex())
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    return {'h': _handle(fd, temp, real)}


def _get_handle(req):
    entry = _handles.get(req.get('h'))
    if entry is None:
        raise _FsError('EBADF', 'the transfer is closed')
    return entry


def _fs_pread(req, part):
    fd = _get_handle(req)[0]
    return {}, os.pread(fd, min(int(req.get('length') or _FS_CHUNK), _FS_CHUNK), int(req.get('offset') or 0))


def _fs_pwrite(req, part):
    _write_all(_get_handle(req)[0], req.get('_bin') or b'')
    return {}


def _fs_close(req, part):
    fd, temp, target = _get_handle(req)
    del _handles[req['h']]
    os.close(fd)
    if temp:
        if req.get('commit'):
            try:
                os.rename(temp, target)
            except BaseException:
                _unlink_quietly(temp)
                raise
        else:
            _unlink_quietly(temp)
    return {}


def _fs_mkdir(req, part):
    os.makedirs(os.path.realpath(req['path']), exist_ok=True)
    return {}


def _fs_move(req, part):
    source, destination = req['source'], req['destination']
    os.lstat(source)
    if os.path.lexists(destination):
        raise _FsError('EEXIST', 'destination already exists')
    parent = os.path.realpath(os.path.dirname(destination))
    os.makedirs(parent, exist_ok=True)
    os.rename(source, os.path.join(parent, os.path.basename(destination)))
    return {}


def _fs_remove(req, part):
    path = req['path']
    if os.path.normpath(path) == '/':
        raise _FsError('EPERM', 'cannot delete the root directory')
    if _stat.S_ISDIR(os.lstat(path).st_mode):
        import shutil  # its rmtree works on descriptors and never follows a link
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return {}


class _Parts:
    """Collects entries and sends them in parts of bounded size."""

    def __init__(self, part):
        self.part = part
        self.entries = []
        self.bytes = 0

    def add(self, entry, size):
        self.entries.append(entry)
        self.bytes += size + 8
        if self.bytes >= _FS_PART:
            self.flush()

    def flush(self):
        if self.entries:
            self.part({'entries': self.entries})
        self.entries = []
        self.bytes = 0


def _fs_list(req, part):
    path = req['path']
    if not _stat.S_ISDIR(os.stat(path).st_mode):
        return {'notDir': True}
    parts = _Parts(part)
    with os.scandir(path) as it:
        for entry in it:
            try:
                is_dir = entry.is_dir()  # follows a link, as the sandbox sees it
            except OSError:
                is_dir = False
            parts.add([entry.name, is_dir], len(entry.name))
    parts.flush()
    return {}


def _matcher(spec):
    """A compiled search pattern: a case-insensitive substring, or a regex on the name or relative path."""
    if spec.get('contains') is not None:
        needle = spec['contains']
        return lambda rel, name: needle in name.lower()
    import re
    try:
        rx = re.compile(spec['regex'])
    except re.error as e:
        raise _FsError('EINVAL', 'invalid pattern: %s' % e)
    if spec.get('rel'):
        return lambda rel, name: rx.fullmatch(rel) is not None
    return lambda rel, name: rx.fullmatch(name) is not None


def _fs_walk(req, part):
    path = req['path']
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {'top': os.path.realpath(path), 'missing': True}
    top = os.path.realpath(path)
    out = {'top': top, 'type': _type(st.st_mode)}
    want = req.get('want')
    if want == 'snapshot':
        out['stat'] = [True if _stat.S_ISDIR(st.st_mode) else False, st.st_mtime_ns / 1e6, st.st_size, st.st_ino]
    if not _stat.S_ISDIR(st.st_mode):
        return out
    limit = int(req.get('limit') or 0)
    max_matches = int(req.get('maxMatches') or 0)
    skips = [_matcher(s) for s in req.get('skip') or []]
    match = _matcher(req['match']) if req.get('match') else None
    parts = _Parts(part)
    state = {'seen': 0, 'matches': 0}
    # Like `find -xdev`: mounts below the walked directory (the sandbox's read-only host binds,
    # /proc, /dev) are listed but not entered, as the session's own files are what is asked for.
    mounts = _mount_points()
    mounts.discard(top)

    def visit(host, rel):
        try:
            with os.scandir(host) as it:
                entries = sorted(it, key=lambda e: _utf16_key(e.name))
        except OSError:
            return True
        for entry in entries:
            if state['seen'] >= limit:
                return False
            child = rel + '/' + entry.name if rel else entry.name
            if any(s(child, entry.name) for s in skips):
                continue
            state['seen'] += 1
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if want == 'search':
                if match is None or match(child, entry.name):
                    parts.add(child, len(child))
                    state['matches'] += 1
                    if max_matches and state['matches'] >= max_matches:
                        return False
            elif want == 'snapshot':
                try:
                    s = entry.stat(follow_symlinks=False)
                except OSError:
                    s = None
                if s is not None:
                    parts.add([child, is_dir, s.st_mtime_ns / 1e6, s.st_size, s.st_ino], len(child) + 40)
            else:  # files: regular files only
                try:
                    if entry.is_file(follow_symlinks=False):
                        parts.add(child, len(child))
                except OSError:
                    pass
            if is_dir and entry.path not in mounts and not visit(entry.path, child):
                return False
        return True

    visit(top, '')
    parts.flush()
    return out


def _mount_points():
    """Mount points as paths (mountinfo writes space, tab, newline and backslash as \\ooo)."""
    import re
    points = set()
    try:
        with open('/proc/self/mountinfo', 'rb') as f:
            for line in f.read().split(b'\n'):
                fields = line.split(b' ')
                if len(fields) > 4:
                    points.add(os.fsdecode(re.sub(rb'\\([0-7]{3})', lambda m: bytes([int(m.group(1), 8)]), fields[4])))
    except OSError:
        pass
    return points


def _fs_du(req, part):
    """Bytes allocated below path (like `du`), links not followed, other mounts (the host's
    read-only binds, /proc, /dev) not entered, at most `limit` entries."""
    path = req['path']
    limit = int(req.get('limit') or 0)
    mounts = _mount_points()
    mounts.discard(os.path.realpath(path))
    total = os.lstat(path).st_blocks * 512
    seen = 0
    todo = [path]
    while todo and seen < limit:
        host = todo.pop()
        try:
            it = os.scandir(host)
        except OSError:
            continue
        with it:
            for entry in it:
                seen += 1
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if _stat.S_ISDIR(st.st_mode):
                    if entry.path in mounts:
                        continue
                    todo.append(entry.path)
                total += st.st_blocks * 512
                if seen >= limit:
                    break
    return {'bytes': total}


_FS_CALLS = {
    'stat': _fs_stat, 'read': _fs_read, 'write': _fs_write, 'open': _fs_open, 'wopen': _fs_wopen,
    'pread': _fs_pread, 'pwrite': _fs_pwrite, 'close': _fs_close, 'mkdir': _fs_mkdir, 'move': _fs_move,
    'remove': _fs_remove, 'list': _fs_list, 'walk': _fs_walk, 'du': _fs_du,
}


def _fs_request(req):
    rid = req.get('rid')
    call = _FS_CALLS.get(req.get('call'))

    def part(fields, raw=None):
        fields['op'] = 'fsp'
        fields['rid'] = rid
        _send(fields, raw)

    try:
        if call is None:
            raise _FsError('EINVAL', 'unknown file operation %r' % req.get('call'))
        result, raw = call(req, part), None
        if isinstance(result, tuple):
            result, raw = result
        _send({'op': 'fsr', 'rid': rid, 'ok': result}, raw)
    except _FsError as e:
        _send({'op': 'fsr', 'rid': rid, 'error': {'code': e.code, 'message': str(e)}})
    except OSError as e:
        code = _errno.errorcode.get(e.errno, 'EIO')
        _send({'op': 'fsr', 'rid': rid, 'error': {'code': code, 'message': e.strerror or str(e)}})
    except Exception as e:  # a malformed request
        _send({'op': 'fsr', 'rid': rid, 'error': {'code': 'EINVAL', 'message': '%s: %s' % (type(e).__name__, e)}})
