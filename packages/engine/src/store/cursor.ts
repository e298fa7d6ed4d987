// Opaque list cursors: the sort key of the last row of a page, base64url-encoded.

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor(cursor: string): (string | number)[] | undefined {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    return Array.isArray(key) && key.every((k) => typeof k === 'string' || typeof k === 'number') ? key : undefined
  } catch {
    return undefined
  }
}
