// The outbox behind the asynchronous Store port (`store.webhooks`). Code already inside a SQLite
// transaction (ingest, billing) calls WebhookOutbox.enqueue directly, so it commits with it.
import type Database from 'better-sqlite3'
import type { Page } from '../store/port.js'
import type {
  AttemptResult,
  DeliveryQuery,
  DeliveryStatus,
  DueWebhook,
  RedeliverResult,
  StoredWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpointInput,
  WebhookStore,
} from './model.js'
import { WebhookOutbox, type WebhookOutboxOptions } from './outbox.js'
import type { WebhookData, WebhookEndpoint, WebhookEventType } from './payloads.js'

/** Runs synchronous work on the connection between transactions (SqliteStorage.exclusive). */
export type ExclusiveRunner = <T>(fn: () => T) => Promise<Awaited<T>>

const inline: ExclusiveRunner = async <T>(fn: () => T): Promise<Awaited<T>> => await fn()

export class SqliteWebhookStore implements WebhookStore {
  readonly outbox: WebhookOutbox
  private run: ExclusiveRunner = inline

  constructor(db: Database.Database, options: WebhookOutboxOptions = {}) {
    this.outbox = new WebhookOutbox(db, options)
  }

  /** Takes the connection's turns from `run`, so that its own transactions never land inside another caller's. */
  runOn(run: ExclusiveRunner): void {
    this.run = run
  }

  async enqueue<T extends WebhookEventType>(tenantId: number, endpoints: readonly WebhookEndpoint[], type: T, data: WebhookData[T], atMs: number): Promise<string[]> {
    return this.run(() => this.outbox.enqueue(tenantId, endpoints, type, data, atMs))
  }

  async due(nowMs: number, limit: number): Promise<DueWebhook[]> {
    return this.run(() => this.outbox.due(nowMs, limit))
  }

  async lease(id: string, nowMs: number, untilMs: number): Promise<boolean> {
    return this.run(() => this.outbox.lease(id, nowMs, untilMs))
  }

  async recordAttempt(id: string, result: AttemptResult): Promise<DeliveryStatus | undefined> {
    return this.run(() => this.outbox.recordAttempt(id, result))
  }

  async list(tenantId: number, query: DeliveryQuery): Promise<Page<WebhookDelivery>> {
    return this.run(() => this.outbox.list(tenantId, query))
  }

  async redeliver(tenantId: number, id: string, nowMs: number): Promise<RedeliverResult> {
    return this.run(() => this.outbox.redeliver(tenantId, id, nowMs))
  }

  async prune(beforeMs: number): Promise<number> {
    return this.run(() => this.outbox.prune(beforeMs))
  }

  async createEndpoint(tenantId: number, input: WebhookEndpointInput, nowMs: number): Promise<StoredWebhookEndpoint> {
    return this.run(() => this.outbox.endpoints.create(tenantId, input, nowMs))
  }

  async listEndpoints(tenantId: number): Promise<StoredWebhookEndpoint[]> {
    return this.run(() => this.outbox.endpoints.list(tenantId))
  }

  async deleteEndpoint(tenantId: number, id: string): Promise<boolean> {
    return this.run(() => this.outbox.endpoints.delete(tenantId, id))
  }
}
