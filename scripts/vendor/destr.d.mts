export default function destr(value: unknown): unknown
