import { browserInitRoute } from './browserInitRoute.ts'
import { callToolRoute } from './callToolRoute.ts'
import { createSessionRoute } from './createSessionRoute.ts'
import { getCdpLinkRoute } from './getCdpLinkRoute.ts'
import { getLabelRoute } from './getLabelRoute.ts'
import { getLinkRoutes } from './getLinkRoutes.ts'
import { getMcpResourceRoute } from './getMcpResourceRoute.ts'
import { getSessionInfoRoute } from './getSessionInfoRoute.ts'
import { getSessionRoute } from './getSessionRoute.ts'
import { linkCallToolRoute } from './linkCallToolRoute.ts'
import { listSessionRoute } from './listSessionRoute.ts'
import { listToolsRoute } from './listToolsRoute.ts'
import { refreshSessionIdleTimeRoute } from './refreshSessionIdleTimeRoute.ts'
import { releaseSessionRoutes } from './releaseSessionRoutes.ts'
import { resourcePageRoute } from './resourcePageRoute.ts'
import { setLabelRoute } from './setLabelRoute.ts'
import { testPageRoute } from './testPageRoute.ts'
import { storageRoutes } from '../storage/storageRoutes.ts'
import type { Route } from './Route.ts'

/** Every endpoint of AGB Local. New endpoints (labels, contexts, OSS store, ...) go here. */
export const routes: readonly Route[] = [
  createSessionRoute,
  getSessionRoute,
  getSessionInfoRoute,
  ...releaseSessionRoutes,
  refreshSessionIdleTimeRoute,
  listSessionRoute,
  setLabelRoute,
  getLabelRoute,
  getMcpResourceRoute,
  ...getLinkRoutes,
  getCdpLinkRoute,
  browserInitRoute,
  testPageRoute,
  listToolsRoute,
  callToolRoute,
  linkCallToolRoute,
  resourcePageRoute,
  ...storageRoutes,
]

/** Finds the route for a method and path; `params` are the path regex groups. */
export function matchRoute(method: string, pathname: string): { route: Route; params: string[] } | { route: undefined; pathExists: boolean } {
  let pathExists = false
  for (const route of routes) {
    const m = typeof route.path === 'string' ? (route.path === pathname ? [pathname] : null) : route.path.exec(pathname)
    if (!m) continue
    pathExists = true
    if (route.method === method) return { route, params: m.slice(1) }
  }
  return { route: undefined, pathExists }
}
