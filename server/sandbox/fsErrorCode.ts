import { SandboxFsError } from './SandboxFsError.ts'

/** The errno name of a failed file operation (`ENOENT`, `EISDIR`, `ENOTREG`...), or `undefined` for other errors. */
export function fsErrorCode(error: unknown): string | undefined {
  return error instanceof SandboxFsError ? error.code : undefined
}
