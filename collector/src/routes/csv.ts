// CSV as RFC 4180 has it: fields separated by commas, records ended by CRLF, and a field holding
// a comma, a double quote, CR or LF enclosed in double quotes with its quotes doubled.

export type CsvField = string | number | null | undefined

const NEEDS_QUOTES = /[",\r\n]/

export function csvField(value: CsvField): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function csvRecord(fields: readonly CsvField[]): string {
  return fields.map(csvField).join(',') + '\r\n'
}

/**
 * A streamed CSV body: the header, then the records `rows` yields, pulled as the client reads
 * (a slow reader holds the next page back instead of filling memory). A failure after the first
 * bytes aborts the stream, so a truncated file cannot pass for a complete one.
 */
export function csvStream(header: readonly string[], rows: AsyncIterable<readonly CsvField[][]>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const pages = rows[Symbol.asyncIterator]()
  let started = false
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true
        controller.enqueue(encoder.encode(csvRecord(header)))
        return
      }
      const next = await pages.next()
      if (next.done) return controller.close()
      if (next.value.length > 0) controller.enqueue(encoder.encode(next.value.map(csvRecord).join('')))
    },
    async cancel() {
      await pages.return?.()
    },
  })
}
