import { nonBlank } from './check.ts'

/** `{ bucket, object, path }` of the OSS tools (`object` is the key, `path` a sandbox path), checked. */
export function ossObject(target: unknown, what = 'target'): { bucket: string; object: string; path: string } {
  const t = (target ?? {}) as Record<string, unknown>
  return { bucket: nonBlank(t.bucket, `${what}.bucket`), object: nonBlank(t.object, `${what}.object`), path: nonBlank(t.path, `${what}.path`) }
}
