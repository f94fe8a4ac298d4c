import type { IdKind } from './createIdSigner.ts'

/** The kind of id a key holds (`sessionId`, `SessionId`, `session_id` ... ), if it holds one. */
export function idKind(key: string): IdKind | undefined {
  const k = key.toLowerCase().replace(/[^a-z]/g, '')
  return k === 'sessionid' ? 'session' : k === 'contextid' ? 'context' : undefined
}

/** Turns a signed id back into the upstream id, or `undefined` when it is not the caller's. */
export type Unsign = (kind: IdKind, signed: unknown) => Promise<string | undefined>

/** Nesting depth beyond which a body is refused. */
export const MAX_DEPTH = 16

/** Why a body was refused: an id that is not the caller's, or nesting beyond {@link MAX_DEPTH}. */
export interface IdProblem {
  path: string
  reason: 'not_signed' | 'too_deep'
}

/**
 * Replaces every session or context id anywhere in a JSON value (nested objects, arrays, and
 * the JSON-encoded `args` string of a tool call) with the upstream id it signs, in place.
 * Services read ids from more places than the protocol lists (a body as well as the query,
 * other spellings), so every id-shaped key is checked, not only the documented one.
 *
 * @param value - A parsed JSON body (changed in place).
 * @param unsign - Verifies one id for the caller.
 * @returns `undefined` when every id was the caller's, else where the first one that was not
 *   is (or where the value nests deeper than {@link MAX_DEPTH}: no request needs that, and the
 *   walk stays bounded).
 */
export async function unsignIds(value: unknown, unsign: Unsign, path = '', depth = 0): Promise<IdProblem | undefined> {
  if (typeof value !== 'object' || value === null) return undefined
  if (depth > MAX_DEPTH) return { path, reason: 'too_deep' }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = await unsignIds(value[i], unsign, `${path}[${i}]`, depth + 1)
      if (bad) return bad
    }
    return undefined
  }
  const object = value as Record<string, unknown>
  for (const key of Object.keys(object)) {
    const where = path ? `${path}.${key}` : key
    const kind = idKind(key)
    if (kind) {
      const id = await unsign(kind, object[key])
      if (id === undefined) return { path: where, reason: 'not_signed' }
      object[key] = id
    } else if (key === 'args' && typeof object[key] === 'string') {
      // Tool arguments travel as a JSON string: look inside, and send what was checked (re-encoded,
      // so a duplicate key another JSON parser might read differently does not survive).
      let args: unknown
      try {
        args = JSON.parse(object[key])
      } catch {
        continue
      }
      const bad = await unsignIds(args, unsign, `${where}(JSON)`, depth + 1)
      if (bad) return bad
      object[key] = JSON.stringify(args)
    } else {
      const bad = await unsignIds(object[key], unsign, where, depth + 1)
      if (bad) return bad
    }
  }
  return undefined
}
