export declare function withQuery(input: string, query: Record<string, unknown>): string
export declare function withBase(input: string, base: string): string
