/**
 * Each client's API key, kept off the client object itself: no inspection of a client
 * (`util.inspect` with hidden properties and getters, `JSON.stringify`, property
 * descriptors, `structuredClone`, spreading) can reach a module-level WeakMap.
 */
export const apiKeys: WeakMap<object, string> = /* @__PURE__ */ new WeakMap()
