/** One API or tool call as the console timeline shows it (already redacted). */
export interface CallEntry {
  /** Increasing number, unique per AGB Local. */
  seq: number
  /** Epoch ms when the request arrived. */
  at: number
  /** `api`: a client's request; `console`: an action taken in the console. */
  source: 'api' | 'console'
  method: string
  /** Path only: query strings may carry signatures. */
  path: string
  /** Tool name of a `/mcp` or linkUrl call. */
  tool?: string
  /** Safe one-line summary of the tool arguments. */
  args?: string
  sessionId?: string
  durationMs: number
  /** HTTP status; 0 when no answer was sent (dropped connection, client gone). */
  status: number
  /** Envelope success and, for tool calls, not `isError`. */
  ok: boolean
  requestId?: string
  /** The failure: envelope message or tool error text (cut short). */
  error?: string
  /** run_code / shell result text (cut short). */
  output?: string
  /** Kind of the injected fault that answered this request. */
  fault?: string
}
