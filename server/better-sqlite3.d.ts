/**
 * The part of better-sqlite3's API that server/history.ts uses (its types live in a separate
 * @types package; only the driver itself is a dependency).
 */
declare module 'better-sqlite3' {
  namespace BetterSqlite3 {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
      iterate(...params: unknown[]): IterableIterator<unknown>;
    }
    interface Database {
      readonly open: boolean;
      prepare(sql: string): Statement;
      exec(sql: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      close(): this;
    }
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      timeout?: number;
    }
  }
  const BetterSqlite3: new (filename: string, options?: BetterSqlite3.Options) => BetterSqlite3.Database;
  type BetterSqlite3 = BetterSqlite3.Database;
  export = BetterSqlite3;
}
