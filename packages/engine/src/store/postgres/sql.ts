// One transaction's connection, with named statements: PostgreSQL parses and plans each once
// per connection, then runs it from its name.
import type pg from 'pg'

export class Sql {
  constructor(readonly client: pg.PoolClient) {}

  async rows<R>(name: string, text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R & pg.QueryResultRow>({ name, text, values })).rows
  }

  async one<R>(name: string, text: string, values: unknown[] = []): Promise<R | undefined> {
    return (await this.rows<R>(name, text, values))[0]
  }

  /** Runs a statement; answers how many rows it changed. */
  async run(name: string, text: string, values: unknown[] = []): Promise<number> {
    return (await this.client.query({ name, text, values })).rowCount ?? 0
  }
}
