// AGB Local java kernel driver: a Jupyter-like REPL on the JShell API (jdk.jshell), one JVM per
// session, snippets executed in this JVM ("local" execution engine: no second JVM to start or to
// fit in the session's memory limit).
//
// Run with the single-file source launcher: `java [flags] javaDriver.java`.
// Protocol:
//   requests on fd 0: a header line "<count> <byteLength>\n" followed by exactly byteLength
//                     bytes of UTF-8 code (no JSON parser needed here).
//   events   on fd 3: JSON lines, as pythonDriver.py: {"type":"stdout"|"stderr","chunk"},
//                     {"type":"result","data":{mime:value},"isMainResult"}, {"type":"end","error"}.
// System.in is replaced by an empty stream so user code cannot eat the protocol; System.out and
// System.err become event streams (ordered with the end event). Raw writes to fds 1/2
// (subprocesses) are collected by the host.
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;

public class AgbJavaKernel {
    static OutputStream events;

    /**
     * fd 3 as a stream, without reopening it (a reopen of a socket fails, and O_TRUNC on a file
     * descriptor that is unexpectedly a regular file would destroy it): refuses anything but a
     * pipe or socket. Needs --add-opens java.base/java.io=ALL-UNNAMED.
     */
    static OutputStream openEvents() throws Exception {
        BasicFileAttributes attrs = Files.readAttributes(Path.of("/proc/self/fd/3"), BasicFileAttributes.class);
        if (!attrs.isOther()) throw new IllegalStateException("fd 3 is not a pipe: refusing to write events to it");
        FileDescriptor fd = new FileDescriptor();
        Field field = FileDescriptor.class.getDeclaredField("fd");
        field.setAccessible(true);
        field.setInt(fd, 3);
        return new FileOutputStream(fd);
    }

    static String json(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    // Lone surrogates are escaped too, so the line is always valid UTF-8.
                    if (c < 0x20 || Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))
                            && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1)))) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static synchronized void emit(String line) {
        try {
            events.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            events.flush();
        } catch (IOException e) {
            Runtime.getRuntime().halt(1); // the host is gone
        }
    }

    /**
     * Long text cut to 1 000 000 characters with a note: the host stops a kernel whose event
     * line passes 16 MiB, and keeps only maxOutputBytes (1 MiB by default) of a text result.
     */
    static String cutText(String text) {
        final int keep = 1_000_000;
        return text.length() <= keep ? text : text.substring(0, keep) + "\u2026[truncated " + (text.length() - keep) + " characters]";
    }

    /**
     * In pieces of at most 1 Mi characters (at most 6 MiB as JSON): the host stops a kernel whose
     * event line passes 16 MiB, and keeps only the first maxOutputBytes of a stream anyway.
     */
    static void emitChunk(String type, String chunk) {
        final int step = 1 << 20;
        for (int at = 0; at < chunk.length(); at += step) {
            emit("{\"type\":\"" + type + "\",\"chunk\":" + json(chunk.substring(at, Math.min(chunk.length(), at + step))) + "}");
        }
    }

    /** Line-buffered byte stream: one event per completed line, the tail on flush or after 100 ms. */
    static final class EventStream extends OutputStream {
        final String type;
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        long pendingSince = 0;

        EventStream(String type) {
            this.type = type;
        }

        @Override public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override public synchronized void write(byte[] bytes, int off, int len) {
            buf.write(bytes, off, len);
            byte[] all = buf.toByteArray();
            int cut = -1;
            for (int i = all.length - 1; i >= 0; i--) if (all[i] == '\n') { cut = i; break; }
            if (cut >= 0) {
                emitChunk(type, new String(all, 0, cut + 1, StandardCharsets.UTF_8));
                buf.reset();
                buf.write(all, cut + 1, all.length - cut - 1);
            }
            pendingSince = buf.size() > 0 ? (pendingSince == 0 ? System.nanoTime() : pendingSince) : 0;
        }

        @Override public synchronized void flush() {
            flushTail(false);
        }

        /** Sends the partial line; unless `all`, it stops before an incomplete UTF-8 sequence. */
        synchronized void flushTail(boolean all) {
            byte[] bytes = buf.toByteArray();
            int end = bytes.length;
            if (!all) {
                int i = end - 1, back = 0;
                while (i >= 0 && back < 3 && (bytes[i] & 0xC0) == 0x80) { i--; back++; }
                if (i >= 0 && (bytes[i] & 0x80) != 0) {
                    int need = (bytes[i] & 0xE0) == 0xC0 ? 2 : (bytes[i] & 0xF0) == 0xE0 ? 3 : 4;
                    if (end - i < need) end = i;
                }
            }
            if (end == 0) return;
            emitChunk(type, new String(bytes, 0, end, StandardCharsets.UTF_8));
            buf.reset();
            buf.write(bytes, end, bytes.length - end);
            pendingSince = buf.size() > 0 ? System.nanoTime() : 0;
        }

        synchronized void flushIfStale() {
            if (pendingSince != 0 && System.nanoTime() - pendingSince > 100_000_000L) flushTail(false);
        }
    }

    static EventStream out, err;

    static final class Failure extends Exception {
        final String name, value, traceback;

        Failure(String name, String value, String traceback) {
            super(value);
            this.name = name;
            this.value = value;
            this.traceback = traceback;
        }
    }

    static String position(String source, long pos) {
        if (pos < 0) return "";
        int line = 1;
        for (int i = 0; i < pos && i < source.length(); i++) if (source.charAt(i) == '\n') line++;
        return ":" + line;
    }

    /** Compile errors in javac style: "cell-3:1: error: cannot find symbol" plus the source line and a caret. */
    static String diagnostics(JShell js, Snippet snippet, int count) {
        String src = snippet.source();
        StringBuilder b = new StringBuilder();
        for (Diag d : js.diagnostics(snippet).collect(Collectors.toList())) {
            if (!d.isError()) continue;
            long pos = d.getPosition();
            // "location: class" names jshell's invisible wrapper class: noise for the user.
            String message = d.getMessage(Locale.ROOT).replaceAll("\\n\\s*location: class\\s*(?=\\n|$)", "");
            b.append("cell-").append(count).append(position(src, pos)).append(": error: ").append(message).append('\n');
            if (pos >= 0 && pos <= src.length()) {
                int start = src.lastIndexOf('\n', (int) Math.max(0, pos - 1)) + 1;
                if (pos == 0) start = 0;
                int end = src.indexOf('\n', (int) pos);
                if (end < 0) end = src.length();
                b.append("    ").append(src, start, end).append('\n');
                b.append("    ").append(" ".repeat((int) pos - start)).append("^\n");
            }
        }
        return b.toString();
    }

    static void appendTrace(StringBuilder b, Throwable t, String header) {
        b.append(header).append('\n');
        StackTraceElement[] trace = t.getStackTrace();
        for (StackTraceElement e : trace) {
            String cls = e.getClassName();
            if (cls.startsWith("jdk.jshell.") || cls.startsWith("jdk.internal.") || cls.startsWith("java.lang.reflect.") || cls.equals(AgbJavaKernel.class.getName())) break;
            if (cls.isEmpty() || cls.startsWith("REPL.")) { // a snippet: method and snippet id, as jshell shows them
                String method = e.getMethodName();
                b.append("\tat ").append(Character.isJavaIdentifierStart(method.isEmpty() ? '.' : method.charAt(0)) ? method + " " : "")
                        .append('(').append(e.getFileName()).append(':').append(e.getLineNumber()).append(")\n");
            }
            else b.append("\tat ").append(e).append('\n');
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t) appendTrace(b, cause, "Caused by: " + describe(cause));
    }

    static String describe(Throwable t) {
        String name = t instanceof EvalException ? ((EvalException) t).getExceptionClassName() : t.getClass().getName();
        return t.getMessage() == null ? name : name + ": " + t.getMessage();
    }

    static Failure failureOf(JShell js, SnippetEvent event, int count) {
        JShellException ex = event.exception();
        if (ex instanceof EvalException) {
            EvalException ee = (EvalException) ex;
            String full = ee.getExceptionClassName();
            StringBuilder b = new StringBuilder();
            appendTrace(b, ee, describe(ee));
            return new Failure(full.substring(full.lastIndexOf('.') + 1), ee.getMessage() == null ? "" : ee.getMessage(), b.toString());
        }
        if (ex instanceof UnresolvedReferenceException) {
            Snippet s = ((UnresolvedReferenceException) ex).getSnippet();
            String missing = s instanceof jdk.jshell.DeclarationSnippet ? String.join(", ", js.unresolvedDependencies((jdk.jshell.DeclarationSnippet) s).collect(Collectors.toList())) : "";
            String value = "attempted to use a declaration with unresolved references" + (missing.isEmpty() ? "" : ": " + missing);
            return new Failure("UnresolvedReferenceException", value, "UnresolvedReferenceException: " + value + "\n");
        }
        if (ex != null) return new Failure(ex.getClass().getSimpleName(), String.valueOf(ex.getMessage()), describe(ex) + "\n");
        if (event.status() == Snippet.Status.REJECTED) {
            String text = diagnostics(js, event.snippet(), count);
            String first = text.isEmpty() ? "the snippet was rejected" : text.substring(text.indexOf(": error: ") + 9, text.indexOf('\n'));
            return new Failure("CompilationException", first, text.isEmpty() ? "CompilationException: " + first + "\n" : text);
        }
        return null;
    }

    static boolean isExpression(Snippet s) {
        switch (s.subKind()) {
            case TEMP_VAR_EXPRESSION_SUBKIND:
            case VAR_VALUE_SUBKIND:
            case OTHER_EXPRESSION_SUBKIND:
                return true;
            default:
                return false;
        }
    }

    /** Runs one cell snippet by snippet; the value of a final expression is the main result. */
    static void execute(JShell js, String code, int count) throws Failure {
        SourceCodeAnalysis analysis = js.sourceCodeAnalysis();
        String rest = code;
        while (!rest.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
            String source;
            switch (info.completeness()) {
                case COMPLETE:
                case COMPLETE_WITH_SEMI:
                    source = info.source();
                    rest = info.remaining();
                    break;
                case EMPTY:
                    return;
                default: // incomplete or unknown: let the compiler say what is wrong with all of it
                    source = rest;
                    rest = "";
            }
            List<SnippetEvent> results = js.eval(source);
            String value = null;
            boolean main = false;
            for (SnippetEvent event : results) {
                if (event.causeSnippet() != null) continue; // updates of dependent snippets
                Failure failure = failureOf(js, event, count);
                if (failure != null) throw failure;
                main = isExpression(event.snippet()) && event.value() != null;
                value = event.value();
            }
            out.flush();
            err.flush();
            if (main && rest.isBlank()) {
                emit("{\"type\":\"result\",\"data\":{\"text/plain\":" + json(cutText(value)) + "},\"isMainResult\":true}");
            }
        }
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        // The launcher compiled this file into memory: its copy in the sandbox's /tmp goes.
        if (args.length > 0) {
            Path dir = Path.of(args[0]);
            Files.deleteIfExists(dir.resolve("AgbJavaKernel.java"));
            Files.deleteIfExists(dir);
        }
        // Buffered: FileInputStream.readNBytes seeks (and fails on a pipe) in some JDK 17 updates.
        InputStream proto = new BufferedInputStream(new FileInputStream(FileDescriptor.in));
        events = openEvents();
        System.setIn(new ByteArrayInputStream(new byte[0]));
        out = new EventStream("stdout");
        err = new EventStream("stderr");
        PrintStream userOut = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream userErr = new PrintStream(err, true, StandardCharsets.UTF_8);
        System.setOut(userOut);
        System.setErr(userErr);
        Thread flusher = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                out.flushIfStale();
                err.flushIfStale();
            }
        }, "agb-flush");
        flusher.setDaemon(true);
        flusher.start();
        JShell js = JShell.builder().executionEngine("local").out(userOut).err(userErr).in(new ByteArrayInputStream(new byte[0])).build();
        while (true) {
            String header = readLine(proto);
            if (header == null) break;
            String[] parts = header.trim().split(" ");
            if (parts.length != 2) continue;
            int count = Integer.parseInt(parts[0]);
            byte[] body = proto.readNBytes(Integer.parseInt(parts[1]));
            String error = "null";
            try {
                execute(js, new String(body, StandardCharsets.UTF_8), count);
            } catch (Failure f) {
                userErr.print(f.traceback);
                error = "{\"name\":" + json(f.name) + ",\"value\":" + json(f.value) + ",\"traceback\":" + json(f.traceback) + "}";
            } catch (Throwable t) { // a bug of the driver or of jshell itself: report it, keep serving
                StringBuilder b = new StringBuilder();
                appendTrace(b, t, describe(t));
                userErr.print(b);
                error = "{\"name\":" + json(t.getClass().getSimpleName()) + ",\"value\":" + json(String.valueOf(t.getMessage())) + ",\"traceback\":" + json(b.toString()) + "}";
            }
            userOut.flush();
            userErr.flush();
            out.flushTail(true);
            err.flushTail(true);
            emit("{\"type\":\"end\",\"error\":" + error + "}");
        }
        js.close();
        System.exit(0);
    }
}
