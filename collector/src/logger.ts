// Structured logs (pino): one JSON object a line on stderr, so stdout keeps the lines meant for
// a person (the address, a new admin key). Levels follow pino's names; `--log-level` picks one.
import { pino, type DestinationStream, type Logger } from 'pino'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The collector's logging call, which the schedulers and the dispatcher take. */
export type LogFunction = (level: 'error' | 'warn' | 'info', message: string, fields?: Record<string, unknown>) => void

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value)
}

export function createLogger(options: { level?: LogLevel; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'meterkit' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names rather than numbers: what log tooling and people both read.
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous: the lines before a crash are written, not left in a buffer.
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  )
}

export function logFunction(logger: Logger): LogFunction {
  return (level, message, fields) => logger[level](fields ?? {}, message)
}
