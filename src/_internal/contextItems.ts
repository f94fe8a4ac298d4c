import * as v from 'valibot'
import { decode, jsonString } from './decode.ts'
import type { Envelope } from './envelope.ts'

// `data.contextStatus` is a JSON string of [{ type: 'data', data: '<JSON string of items>' }]:
// two levels of string encoding.
const ContextItemsSchema = v.pipe(
  v.optional(v.nullable(v.looseObject({ contextStatus: v.optional(v.unknown()) }))),
  v.transform((d) => d?.contextStatus),
  jsonString,
  v.optional(v.nullable(v.array(v.looseObject({ type: v.optional(v.string()), data: v.optional(v.unknown()) })))),
  v.transform((groups) =>
    (groups ?? []).flatMap((g) => {
      if (g.type !== undefined && g.type !== 'data') return []
      let items = g.data
      if (typeof items === 'string') {
        try {
          items = JSON.parse(items)
        } catch {
          return []
        }
      }
      return Array.isArray(items) ? (items as Record<string, unknown>[]) : []
    }),
  ),
)

/** The sync task items of a GetContextInfo answer. */
export function contextItems(envelope: Envelope): Record<string, unknown>[] {
  return decode(ContextItemsSchema, envelope.data, envelope)
}
