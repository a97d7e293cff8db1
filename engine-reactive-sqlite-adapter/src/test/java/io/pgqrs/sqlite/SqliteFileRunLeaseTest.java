package io.pgqrs.sqlite;

/** The run-lease operations on SQLite (a new file). */
class SqliteFileRunLeaseTest extends RunLeaseContract {

  @Override
  protected String dsn() {
    return "sqlite:" + SqliteStores.newFile();
  }
}
