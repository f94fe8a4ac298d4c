import type { Route } from '../routes/Route.ts'
import { contextRoutes } from './contextRoutes.ts'
import { s3Routes } from './s3Routes.ts'

/** Context, presigned-transfer and object-store endpoints. */
export const storageRoutes: readonly Route[] = [...contextRoutes, ...s3Routes]
