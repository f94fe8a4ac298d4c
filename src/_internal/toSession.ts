import * as v from 'valibot'
import type { Client } from '../client.ts'
import { AgbError } from '../errors.ts'
import { deleteSession } from '../sessions/deleteSession.ts'
import type { Session, SessionTool } from '../types.ts'
import { facts, type Envelope } from './envelope.ts'

const ToolSchema = v.looseObject({
  name: v.optional(v.string()),
  Name: v.optional(v.string()),
  server: v.optional(v.string()),
  serverName: v.optional(v.string()),
  Server: v.optional(v.string()),
})

/**
 * The session fields of createSession / getSession `data`. Python's
 * SDK also reads PascalCase `LinkUrl`/`WsUrl`/`Token`/`ToolList`, so we accept both.
 */
const SessionDataSchema = v.looseObject({
  sessionId: v.optional(v.string()),
  resourceUrl: v.optional(v.nullable(v.string())),
  linkUrl: v.optional(v.nullable(v.string())),
  LinkUrl: v.optional(v.nullable(v.string())),
  wsUrl: v.optional(v.nullable(v.string())),
  WsUrl: v.optional(v.nullable(v.string())),
  token: v.optional(v.nullable(v.string())),
  Token: v.optional(v.nullable(v.string())),
  toolList: v.optional(v.unknown()),
  ToolList: v.optional(v.unknown()),
  status: v.optional(v.string()),
})

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
  let list = raw
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list)
    } catch {
      return []
    }
  }
  if (!Array.isArray(list)) return []
  return list.flatMap((item) => {
    const t = v.safeParse(ToolSchema, item)
    if (!t.success) return []
    const name = t.output.name ?? t.output.Name
    return name ? [{ name, server: t.output.server ?? t.output.serverName ?? t.output.Server ?? '' }] : []
  })
}

/** Builds a {@link Session} handle from createSession/getSession data. */
export function toSession(client: Client, envelope: Envelope, imageId?: string, fallbackId?: string): Session {
  const parsed = v.safeParse(SessionDataSchema, envelope.data)
  const d = parsed.success ? parsed.output : undefined
  const id = d?.sessionId || fallbackId
  if (!d || !id) {
    throw new AgbError('invalid_response', `${envelope.op}: the response has no session id${facts(envelope.route, `request ${envelope.requestId || 'unknown'}`)}`, {
      status: envelope.status,
      requestId: envelope.requestId,
    })
  }
  const session: Record<string, unknown> & { id: string } = { id }
  if (imageId) session.imageId = imageId
  const resourceUrl = d.resourceUrl
  const linkUrl = d.linkUrl ?? d.LinkUrl
  const wsUrl = d.wsUrl ?? d.WsUrl
  if (resourceUrl) session.resourceUrl = resourceUrl
  if (linkUrl) session.linkUrl = linkUrl
  if (wsUrl) session.wsUrl = wsUrl
  session.tools = Object.freeze(parseTools(d.toolList ?? d.ToolList))
  if (d.status) session.status = d.status
  return freezeSession(client, session, d.token ?? d.Token ?? undefined)
}
