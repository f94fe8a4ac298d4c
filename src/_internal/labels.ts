import * as v from 'valibot'

/** Labels: non-blank string keys and values (both official SDKs check this client-side). */
export const LabelsSchema = v.record(
  v.pipe(v.string(), v.trim(), v.nonEmpty('label keys must not be blank')),
  v.pipe(v.string('label values must be strings'), v.trim(), v.nonEmpty('label values must not be blank')),
)
