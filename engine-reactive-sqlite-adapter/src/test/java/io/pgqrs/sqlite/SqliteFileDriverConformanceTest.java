package io.pgqrs.sqlite;

import io.pgqrs.conformance.DriverConformance;

/** The driver conformance suite on SQLite (a new file). */
class SqliteFileDriverConformanceTest extends DriverConformance {

  @Override
  protected String dsn() {
    return "sqlite:" + SqliteStores.newFile();
  }
}
