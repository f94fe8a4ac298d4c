import * as v from 'valibot'
import { nonEmpty } from './validate.ts'

/** `{ bucket, object, path }` of the OSS tools (`object` is the key, `path` a sandbox path). */
export const OssObjectSchema = v.object({
  bucket: nonEmpty('bucket'),
  object: nonEmpty('object'),
  path: nonEmpty('path'),
})
