export * from './proxy/createProxyHandler.ts'
