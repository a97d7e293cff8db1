package io.pgqrs.dashboard;

import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The dashboard's routes on PostgreSQL, in a schema of this class's own. */
class PostgresDashboardTest extends DashboardContract {

  @RegisterExtension
  static final PostgresDatabase DATABASE = new PostgresDatabase();

  private final PostgresDatabase.Target target;

  PostgresDashboardTest(PostgresDatabase.Target target) {
    this.target = target;
  }

  @Override
  String dsn() {
    return target.dsn();
  }
}
