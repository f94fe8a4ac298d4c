import { createFaults } from '../faults/createFaults.ts'
import type { FaultStore, FaultTarget } from '../faults/createFaults.ts'
import { faultMatches } from '../faults/faultMatches.ts'
import type { FaultSpec } from '../types.ts'

/** A fault the console can switch on and off (on: every matching request gets it). */
export interface ConsoleFault {
  id: number
  spec: Pick<FaultSpec, 'route' | 'tool' | 'kind' | 'status' | 'message'>
  on: boolean
}

/** The fault store the handler uses, with the console's switchable faults in front. */
export interface ConsoleFaults {
  /** Pass to createHandler instead of the plain store: console faults first, then `local.faults`. */
  store: FaultStore
  list(): ConsoleFault[]
  /** Adds a fault, switched on. @throws TypeError on an invalid spec (the same checks as `local.faults.add`) */
  add(spec: ConsoleFault['spec']): ConsoleFault
  /** @returns false when there is no such fault */
  set(id: number, on: boolean): boolean
  remove(id: number): boolean
}

/**
 * Puts the console's faults in front of `base` (the queue behind `local.faults`). A console
 * fault is answered by the same code as a queued one (the handler's faultResponse) and matches
 * the same way (`route`, trailing `*` a prefix; `tool`), but has no count: it applies until it
 * is switched off. `onTaken` hears of every fault used, queued or console.
 */
export function createConsoleFaults(base: FaultStore, onTaken: (spec: FaultSpec) => void): ConsoleFaults {
  let faults: ConsoleFault[] = []
  let nextId = 1
  const store: FaultStore = {
    ...base,
    wantsTool: () => base.wantsTool() || faults.some((f) => f.on && f.spec.tool !== undefined),
    take(target: FaultTarget) {
      const own = faults.find((f) => f.on && faultMatches(f.spec, target))
      const spec = own ? { ...own.spec } : base.take(target)
      if (spec) onTaken(spec)
      return spec
    },
  }
  return {
    store,
    list: () => faults.map((f) => ({ ...f, spec: { ...f.spec } })),
    add(input) {
      const spec: ConsoleFault['spec'] = { kind: input.kind }
      for (const key of ['route', 'tool', 'message'] as const) {
        const value = input[key]
        if (value !== undefined && value !== '') spec[key] = String(value)
      }
      if (input.status !== undefined && input.status !== null && String(input.status) !== '') spec.status = Number(input.status)
      createFaults().add(spec) // throws the same TypeError local.faults.add would
      const fault = { id: nextId++, spec, on: true }
      faults.push(fault)
      return { ...fault, spec: { ...spec } }
    },
    set(id, on) {
      const fault = faults.find((f) => f.id === id)
      if (fault) fault.on = on
      return !!fault
    },
    remove(id) {
      const before = faults.length
      faults = faults.filter((f) => f.id !== id)
      return faults.length < before
    },
  }
}
