import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'

/** `GetContext.data.state`: `clearing` → `available` after ClearContext. */
export type ContextState = 'available' | 'clearing' | 'pre-available'

/** One context (persistent storage area) as the registry keeps it. */
export interface ContextRecord {
  id: string
  name: string
  /** ISO 8601. */
  createTime: string
  lastUsedTime: string
  state: ContextState
  /** Set for a session's internal file-transfer context (hidden from ListContexts). */
  internalFor?: string
}

/** All contexts, persisted as one JSON file. */
export interface ContextRegistry {
  get(id: string): ContextRecord | undefined
  byName(name: string): ContextRecord | undefined
  /** User contexts (not the internal ones), oldest first. */
  list(): ContextRecord[]
  /** The internal file-transfer context of a session, if it has one. */
  internalOf(sessionId: string): ContextRecord | undefined
  create(name: string, internalFor?: string): ContextRecord
  /** Applies `change` and persists. */
  update(record: ContextRecord, change: Partial<Omit<ContextRecord, 'id'>>): void
  remove(id: string): void
  /** Writes the last change and stops persisting (the data dir may be removed next). */
  close(): Promise<void>
}

/** Loads (or starts) the registry stored at `file`. */
export function createContextRegistry(file: string): ContextRegistry {
  const records = new Map<string, ContextRecord>()
  try {
    for (const r of JSON.parse(readFileSync(file, 'utf8')) as ContextRecord[]) records.set(r.id, r)
  } catch {} // first start, or unreadable: begin empty
  let writing: Promise<void> = Promise.resolve()
  let dirty = false
  let closed = false

  function save(): void {
    if (dirty || closed) return
    dirty = true
    writing = writing.then(async () => {
      dirty = false
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
      await writeFile(tmp, JSON.stringify([...records.values()], null, 1))
      await rename(tmp, file)
    }).catch(() => {}) // best effort: the registry in memory stays authoritative
  }

  return {
    get: (id) => records.get(id),
    byName: (name) => [...records.values()].find((r) => r.name === name && !r.internalFor),
    list: () => [...records.values()].filter((r) => !r.internalFor),
    internalOf: (sessionId) => [...records.values()].find((r) => r.internalFor === sessionId),
    create(name, internalFor) {
      const now = new Date().toISOString()
      const record: ContextRecord = { id: `ctx-${randomBytes(8).toString('hex')}`, name, createTime: now, lastUsedTime: now, state: 'available' }
      if (internalFor) record.internalFor = internalFor
      records.set(record.id, record)
      save()
      return record
    },
    update(record, change) {
      Object.assign(record, change)
      save()
    },
    remove(id) {
      if (records.delete(id)) save()
    },
    close() {
      closed = true
      return writing
    },
  }
}
