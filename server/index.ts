export { createAgbLocal } from './createAgbLocal.ts'
export { serve } from './serve.ts'
export type { ServeOptions, Server } from './serve.ts'
export type { AgbLocal, AgbLocalOptions, Isolation, RecordedRequest } from './types.ts'
