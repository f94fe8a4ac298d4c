/**
 * A file operation in a session's sandbox failed: `code` is the errno name (`ENOENT`, `EISDIR`,
 * `EEXIST`...) or `ENOTREG` (not a regular file), `ESANDBOX` (the sandbox is not running) or
 * `ETIMEDOUT`; the message reads like Node's (`ENOENT: no such file or directory, open '/tmp/x'`)
 * and names the sandbox path only, never a host path.
 */
export class SandboxFsError extends Error {
  override readonly name = 'SandboxFsError'

  /**
   * @param code errno name
   * @param description what went wrong (`no such file or directory`)
   * @param syscall the operation (`open`, `stat`, `mkdir`...)
   * @param path the sandbox path
   */
  constructor(readonly code: string, readonly description: string, readonly syscall: string, readonly path: string) {
    super(`${code}: ${description}, ${syscall} '${path}'`)
  }
}
