import type { Route } from '../routes/Route.ts'

/** Context, presigned-transfer and object-store endpoints (filled in by the storage work). */
export const storageRoutes: readonly Route[] = []
