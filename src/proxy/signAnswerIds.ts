import type { IdKind } from './createIdSigner.ts'
import { idKind } from './unsignIds.ts'

/** Session credentials and hosts a browser must never hold (it reaches sessions only through the proxy). */
const SECRET_FIELDS = ['token', 'Token', 'linkUrl', 'LinkUrl', 'wsUrl', 'WsUrl']
/** Answers are the service's: a bounded walk is enough (an id deeper down stays raw, which only makes it unusable). */
const MAX_DEPTH = 8

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/**
 * Prepares an upstream answer for a browser, in place: every session or context id becomes a
 * signed one (including those in `contextStatus`, a JSON string of groups whose `data` is a JSON
 * string of items), and session tokens and session hosts are removed.
 *
 * @param value - The parsed answer (changed in place).
 * @param sign - Signs one id for the caller.
 */
export async function signAnswerIds(value: unknown, sign: (kind: IdKind, id: string) => Promise<string>, depth = 0): Promise<void> {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return
  if (Array.isArray(value)) {
    for (const item of value) await signAnswerIds(item, sign, depth + 1)
    return
  }
  const object = value as Record<string, unknown>
  for (const secret of SECRET_FIELDS) delete object[secret]
  for (const [key, item] of Object.entries(object)) {
    const kind = idKind(key)
    if (kind && typeof item === 'string' && item) object[key] = await sign(kind, item)
    else if ((key === 'contextStatus' || key === 'ContextStatus') && typeof item === 'string') object[key] = await signContextStatus(item, sign)
    else await signAnswerIds(item, sign, depth + 1)
  }
}

async function signContextStatus(status: string, sign: (kind: IdKind, id: string) => Promise<string>): Promise<string> {
  try {
    const groups = JSON.parse(status) as unknown
    if (!Array.isArray(groups)) return status
    for (const group of groups) {
      if (!isObject(group) || typeof group.data !== 'string') continue
      const items = JSON.parse(group.data) as unknown
      await signAnswerIds(items, sign)
      group.data = JSON.stringify(items)
    }
    return JSON.stringify(groups)
  } catch {
    // Not the documented shape: left as it is (its ids, unsigned, are useless to a browser).
    return status
  }
}
