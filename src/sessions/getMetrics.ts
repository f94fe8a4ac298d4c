import * as v from 'valibot'
import type { Client } from '../client.ts'
import type { RequestOptions, SessionRef } from '../types.ts'
import { invokeTool, toolText } from '../_internal/invokeTool.ts'
import { decode, jsonString } from '../_internal/decode.ts'
import { withDeadline } from '../_internal/deadline.ts'
import { requestOptions, clientOf } from '../_internal/check.ts'
import { toText } from '../_internal/toText.ts'

const num = v.optional(v.nullable(v.number()), 0)

// Alternate key spellings seen across image versions.
const MetricsSchema = v.pipe(
  jsonString,
  v.looseObject({
    cpu_count: num,
    cpu_used_pct: num,
    disk_total: num,
    disk_used: num,
    mem_total: num,
    mem_used: num,
    rx_rate_kbyte_per_s: v.optional(v.number()),
    rx_rate_kbps: v.optional(v.number()),
    rx_rate_KBps: v.optional(v.number()),
    tx_rate_kbyte_per_s: v.optional(v.number()),
    tx_rate_kbps: v.optional(v.number()),
    tx_rate_KBps: v.optional(v.number()),
    rx_used_kbyte: v.optional(v.number()),
    rx_used_kb: v.optional(v.number()),
    rx_used_KB: v.optional(v.number()),
    tx_used_kbyte: v.optional(v.number()),
    tx_used_kb: v.optional(v.number()),
    tx_used_KB: v.optional(v.number()),
    timestamp: v.optional(v.nullable(v.union([v.string(), v.number()])), ''),
  }),
  v.transform((m) => ({
    cpuCount: m.cpu_count,
    cpuUsedPct: m.cpu_used_pct,
    diskTotal: m.disk_total,
    diskUsed: m.disk_used,
    memTotal: m.mem_total,
    memUsed: m.mem_used,
    rxRateKbytePerS: m.rx_rate_kbyte_per_s ?? m.rx_rate_kbps ?? m.rx_rate_KBps ?? 0,
    txRateKbytePerS: m.tx_rate_kbyte_per_s ?? m.tx_rate_kbps ?? m.tx_rate_KBps ?? 0,
    rxUsedKbyte: m.rx_used_kbyte ?? m.rx_used_kb ?? m.rx_used_KB ?? 0,
    txUsedKbyte: m.tx_used_kbyte ?? m.tx_used_kb ?? m.tx_used_KB ?? 0,
    timestamp: toText(m.timestamp),
  })),
)

/** Resource usage of a session (bytes for disk and memory as the service reports them). */
export type SessionMetrics = v.InferOutput<typeof MetricsSchema>

/**
 * Reads a session's resource usage (tool `get_metrics`): CPU, memory, disk, network.
 *
 * @param client - The client.
 * @param session - The session or its id.
 * @param options - `signal`, `timeout`.
 * @returns `{ cpuCount, cpuUsedPct, memTotal, memUsed, diskTotal, diskUsed, rx/tx rates and totals, timestamp }`.
 * @throws AgbError `session_not_found`, `tool_error`, `invalid_response`, ...
 * @example
 * ```ts
 * const { cpuUsedPct, memUsed } = await getMetrics(client, session)
 * ```
 */
export async function getMetrics(client: Client, session: SessionRef, options?: RequestOptions): Promise<SessionMetrics> {
  const output = await withDeadline('getMetrics', requestOptions(options), clientOf(client).timeout, (call) => invokeTool(client, session, 'get_metrics', {}, call))
  return decode(MetricsSchema, toolText(output, 'get_metrics'), { op: 'getMetrics', route: 'POST /mcp get_metrics', requestId: output.requestId, status: 200 })
}
