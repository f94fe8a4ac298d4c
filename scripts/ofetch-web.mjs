// What the build bundles for `import { createFetch } from 'ofetch'`: ofetch's web build
// (pinned 1.5.1), without the module that creates a default instance at load time.
export { c as createFetch } from '../node_modules/ofetch/dist/shared/ofetch.CWycOUEr.mjs'
