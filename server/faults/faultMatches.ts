import type { FaultSpec } from '../types.ts'
import type { FaultTarget } from './createFaults.ts'

/**
 * Does a fault apply to this request? `route` (absent: any path; a trailing `*` makes it a
 * prefix) and `tool` (absent: any request) must both match. Queued and console faults match alike.
 */
export function faultMatches(spec: Pick<FaultSpec, 'route' | 'tool'>, target: FaultTarget): boolean {
  const { route, tool } = spec
  const routeMatches = route === undefined || (route.endsWith('*') ? target.path.startsWith(route.slice(0, -1)) : route === target.path)
  return routeMatches && (tool === undefined || tool === target.tool)
}
