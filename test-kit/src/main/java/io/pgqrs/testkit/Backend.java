package io.pgqrs.testkit;

/** The database a {@link PgqrsExtension} gives each test. */
public enum Backend {

  /**
   * A fresh SQLite in-memory database per test ({@code sqlite::memory:?name=<random>}), dropped
   * when the test ends. Needs nothing installed; the default.
   */
  SQLITE_MEMORY,

  /**
   * A fresh schema per test in the PostgreSQL database named by
   * {@link PgqrsExtension.Builder#postgresUrl(String)}, else by the {@code PGQRS_TEST_POSTGRES_URL}
   * environment variable; created and installed before the test, dropped after it. Without a URL
   * the test is skipped, and with {@code CI=true} it fails instead.
   */
  POSTGRES
}
