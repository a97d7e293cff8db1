package io.pgqrs.sqlite;

/**
 * Upgrading a SQLite file installed at migration 3, before the maintenance services' migration:
 * both later migrations apply in one install.
 */
class SqliteFileUpgradeFromV003Test extends SqliteFileUpgradeTest {

  @Override
  protected int oldVersion() {
    return 3;
  }
}
