import { callToolRoute } from './callToolRoute.ts'
import { createSessionRoute } from './createSessionRoute.ts'
import { getSessionInfoRoute } from './getSessionInfoRoute.ts'
import { getSessionRoute } from './getSessionRoute.ts'
import { linkCallToolRoute } from './linkCallToolRoute.ts'
import { refreshSessionIdleTimeRoute } from './refreshSessionIdleTimeRoute.ts'
import { releaseSessionRoutes } from './releaseSessionRoutes.ts'
import { storageRoutes } from '../storage/storageRoutes.ts'
import type { Route } from './Route.ts'

/** Every endpoint of AGB Local. New endpoints (labels, contexts, OSS store, ...) go here. */
export const routes: readonly Route[] = [
  createSessionRoute,
  getSessionRoute,
  getSessionInfoRoute,
  ...releaseSessionRoutes,
  refreshSessionIdleTimeRoute,
  callToolRoute,
  linkCallToolRoute,
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
