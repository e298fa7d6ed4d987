// Reads a request body with its size limit enforced on the decoded bytes while they arrive: an
// oversized or gzip-bomb body is refused as soon as it passes the limit, never inflated whole.
import { HttpError } from '../http-error.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

async function readLimited(stream: ReadableStream<Uint8Array>, limit: number, what: string): Promise<Uint8Array> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) {
        throw new HttpError('payload_too_large', `${what} is over the ${limit}-byte limit`, { limitBytes: limit })
      }
      chunks.push(value)
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined)
    if (err instanceof HttpError) throw err
    throw new HttpError('invalid_body', `${what} could not be read: ${(err as Error).message}`)
  }
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/**
 * The body as text, decoded from gzip when `Content-Encoding: gzip`, at most `limitBytes` after
 * decoding. Throws 413 past the limit, 415 for an unknown encoding, 400 for bad gzip or UTF-8.
 */
export async function readBodyText(request: Request, limitBytes: number): Promise<string> {
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase()
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new HttpError('unsupported_media_type', `Content-Encoding "${encoding}" is not supported (use gzip or none)`)
  }
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (encoding === 'identity' && declared > limitBytes) {
    throw new HttpError('payload_too_large', `body is over the ${limitBytes}-byte limit`, { limitBytes })
  }
  if (request.body === null) return ''
  let bytes: Uint8Array
  if (encoding === 'gzip') {
    // The compressed stream is capped too: gzip never needs more bytes than the data it holds.
    const compressed = readLimited(request.body, limitBytes + 1024, 'compressed body')
    const inflated = new Blob([await compressed]).stream().pipeThrough(new DecompressionStream('gzip'))
    bytes = await readLimited(inflated as ReadableStream<Uint8Array>, limitBytes, 'decoded body').catch((err: unknown) => {
      if (err instanceof HttpError && err.code === 'invalid_body') {
        throw new HttpError('invalid_body', 'body is not valid gzip')
      }
      throw err
    })
  } else {
    bytes = await readLimited(request.body, limitBytes, 'body')
  }
  try {
    return utf8.decode(bytes)
  } catch {
    throw new HttpError('invalid_body', 'body is not valid UTF-8')
  }
}

/** Parses JSON text; 400 `invalid_json` with the parser's reason when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new HttpError('invalid_json', `body is not valid JSON: ${(err as Error).message}`)
  }
}
