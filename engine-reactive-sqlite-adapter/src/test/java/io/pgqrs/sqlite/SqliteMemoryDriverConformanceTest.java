package io.pgqrs.sqlite;

import io.pgqrs.conformance.DriverConformance;
import java.util.UUID;

/** The driver conformance suite on SQLite (a new named in-memory database). */
class SqliteMemoryDriverConformanceTest extends DriverConformance {

  @Override
  protected String dsn() {
    return "sqlite::memory:?name=t" + UUID.randomUUID().toString().replace("-", "");
  }
}
