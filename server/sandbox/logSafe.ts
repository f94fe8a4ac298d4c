/** Longest piece of sandbox-produced text put on one log line. */
const MAX_LOG_CHARS = 500

/**
 * Makes text that sandboxed code could have produced (an agent's or Chromium's stderr) safe to
 * put on one line of AGB Local's log: every control character (C0 including newline and
 * carriage return, DEL, C1) and the Unicode line/paragraph separators and bidi overrides are
 * shown escaped (`\n`, `\x1b`, `\u202e`), and the text is cut to `max` characters with a note.
 * Without this, hostile code could clear or retitle the user's terminal, or print a line that
 * looks like AGB Local's own (`export AGB_ENDPOINT=…`, which users paste into their shell).
 */
export function logSafe(text: string, max = MAX_LOG_CHARS): string {
  const cut = text.length > max ? text.slice(0, max) : text
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    if (c === '\t') return '\\t'
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
  return text.length > max ? `${escaped}…[${text.length - max} more characters]` : escaped
}
