import type { Client } from '../client.ts'
import { deleteSession } from '../sessions/deleteSession.ts'
import type { Session, SessionTool } from '../types.ts'
import { answerError, field, type Envelope } from './envelope.ts'
import { parseJson } from './parseJson.ts'

type Data = Record<string, unknown>

/** A string field, under its camelCase or PascalCase name (Python's SDK reads both); else undefined. */
const str = (d: Data, name: string): string | undefined => {
  const value = field(d, name)
  return typeof value === 'string' && value ? value : undefined
}

const disposeKey: symbol = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')

/** Freezes session fields into a handle whose disposal deletes the session. */
export function freezeSession(client: Client, fields: Record<string, unknown> & { id: string }, token?: string): Session {
  // A getter, so even inspection of hidden properties shows `[Getter]`, not the token.
  if (token) Object.defineProperty(fields, 'token', { get: () => token, enumerable: false })
  Object.defineProperty(fields, disposeKey, {
    value: async () => {
      await deleteSession(client, fields.id)
    },
    enumerable: false,
  })
  return Object.freeze(fields) as unknown as Session
}

function parseTools(raw: unknown): SessionTool[] {
  const list = typeof raw === 'string' ? parseJson(raw) : raw
  return (Array.isArray(list) ? list : []).flatMap((item: Data) => {
    const name = item && str(item, 'name')
    return name ? [{ name, server: str(item, 'server') ?? str(item, 'serverName') ?? '' }] : []
  })
}

/**
 * Builds a {@link Session} handle from the session fields of createSession / getSession
 * `data` (tolerant: a field of the wrong type reads as absent).
 */
export function toSession(client: Client, envelope: Envelope, imageId?: string, fallbackId?: string): Session {
  const d = (typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : undefined) as Data | undefined
  const id = (d && str(d, 'sessionId')) || fallbackId
  if (!d || !id) {
    throw answerError('invalid_response', { ...envelope, code: '', requestId: envelope.requestId || 'unknown' }, 'the response has no session id')
  }
  const session: Record<string, unknown> & { id: string } = { id }
  if (imageId) session.imageId = imageId
  for (const key of ['resourceUrl', 'linkUrl', 'wsUrl', 'status']) {
    const value = str(d, key)
    if (value) session[key] = value
  }
  session.tools = Object.freeze(parseTools(d.toolList ?? d.ToolList))
  return freezeSession(client, session, str(d, 'token'))
}
