/**
 * What a proxy may let a browser do. `sessions` covers create, get, status, list, delete,
 * keep-alive, labels, info, link, tools and metrics.
 */
export type ProxyPermission = 'sessions' | 'runCode' | 'streamCode' | 'exec' | 'readFiles' | 'writeFiles' | 'transfer' | 'oss' | 'callTool'

/** Every permission, for option checks. */
export const PERMISSIONS = ['sessions', 'runCode', 'streamCode', 'exec', 'readFiles', 'writeFiles', 'transfer', 'oss', 'callTool'] as const

/**
 * One forwarded API route. Only the listed query and body keys are forwarded: anything else a
 * browser adds (`isAll`, `autoGenSession`, a second spelling of a key the service also reads)
 * never reaches the service.
 */
export interface ProxyRoute {
  permission: ProxyPermission
  /** Query keys forwarded. */
  query: readonly string[]
  /** Top-level body keys forwarded (POST). */
  body: readonly string[]
  /** Where the session id this route needs is; it must be present and signed for the caller. */
  session?: 'query' | 'body'
  /** The route needs a signed `contextId` in the query. */
  context?: true
  /** Query values the proxy sets whatever the browser sent. */
  fixedQuery?: Record<string, string>
}

const bodySession = (permission: ProxyPermission): ProxyRoute => ({ permission, query: [], body: ['sessionId'], session: 'body' })
const contextFile = (): ProxyRoute => ({ permission: 'transfer', query: ['contextId', 'filePath'], body: [], context: true })

/** The API routes a browser may use, by `METHOD path`. */
export const PROXY_ROUTES: Readonly<Record<string, ProxyRoute>> = {
  // No `mcpPolicyId`: the policy decides what a sandbox may do, so a browser does not pick it.
  'POST /mcp/createSession': { permission: 'sessions', query: ['imageId', 'sdkStats'], body: ['labels', 'persistenceDataList', 'timeout'] },
  'POST /mcp/getSession': bodySession('sessions'),
  'POST /mcp/getSessionInfo': bodySession('sessions'),
  'POST /mcp/releaseSessionAsync': bodySession('sessions'),
  'POST /mcp/releaseSession': bodySession('sessions'),
  'POST /mcp/getMcpResource': bodySession('sessions'),
  'POST /mcp/refreshSessionIdleTime': { permission: 'sessions', query: ['sessionId'], body: [], session: 'query' },
  'POST /sdk/SetLabel': { permission: 'sessions', query: ['sessionId', 'Labels'], body: [], session: 'query' },
  'GET /sdk/GetLabel': { permission: 'sessions', query: ['sessionId', 'maxResults', 'nextToken'], body: [], session: 'query' },
  'GET /sdk/ListSession': { permission: 'sessions', query: ['maxResults', 'nextToken', 'labels'], body: [] },
  'GET /internet/getLink': { permission: 'sessions', query: ['sessionId', 'protocolType', 'port'], body: [], session: 'query' },
  'POST /mcp/listTools': { permission: 'sessions', query: ['imageId'], body: [] },
  // Without a session the service may create one for the call (`autoGenSession`): never.
  'POST /mcp': { permission: 'callTool', query: [], body: ['sessionId', 'name', 'args', 'server'], session: 'body', fixedQuery: { autoGenSession: 'false' } },
  'POST /sdk/GetAndLoadInternalContext': { permission: 'transfer', query: ['sessionId', 'contextTypes'], body: [], session: 'query' },
  'POST /sdk/SyncContext': { permission: 'transfer', query: ['sessionId', 'contextId', 'path', 'mode'], body: [], session: 'query' },
  'GET /sdk/GetContextInfo': { permission: 'transfer', query: ['sessionId', 'contextId', 'path', 'taskType'], body: [], session: 'query' },
  'POST /sdk/GetContextFileUploadUrl': contextFile(),
  'POST /sdk/GetContextFileDownloadUrl': contextFile(),
  'POST /sdk/DeleteContextFile': contextFile(),
}

/** The permission each tool of `POST /mcp` needs; other tools need `callTool`. */
export const TOOL_PERMISSIONS: Readonly<Record<string, ProxyPermission>> = {
  run_code: 'runCode',
  shell: 'exec',
  get_metrics: 'sessions',
  read_file: 'readFiles',
  get_file_info: 'readFiles',
  list_directory: 'readFiles',
  search_files: 'readFiles',
  read_multiple_files: 'readFiles',
  get_file_change: 'readFiles',
  write_file: 'writeFiles',
  create_directory: 'writeFiles',
  move_file: 'writeFiles',
  delete_file: 'writeFiles',
  edit_file: 'writeFiles',
  oss_env_init: 'oss',
  oss_upload: 'oss',
  oss_download: 'oss',
  oss_upload_annon: 'oss',
  oss_download_annon: 'oss',
}
