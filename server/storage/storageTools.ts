import type { Tool } from '../tools/Tool.ts'

/** OSS tools (`oss_env_init`, `oss_upload`, ...) (filled in by the storage work). */
export const storageTools: readonly Tool[] = []
