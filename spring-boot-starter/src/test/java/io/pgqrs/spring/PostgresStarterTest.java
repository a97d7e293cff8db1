package io.pgqrs.spring;

import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The starter on PostgreSQL, in a schema of this class's own (dropped afterwards) and a second
 * schema where nothing is installed. Runs when {@code PGQRS_TEST_POSTGRES_URL} is set, and under
 * {@code CI=true} always: there a missing database fails the class instead of skipping it.
 */
@EnabledIf("postgresAvailable")
class PostgresStarterTest extends StarterContract {

  @RegisterExtension
  static final PostgresDatabase DATABASE = new PostgresDatabase();

  private final PostgresDatabase.Target target;

  PostgresStarterTest(PostgresDatabase.Target target) {
    this.target = target;
  }

  static boolean postgresAvailable() {
    return System.getenv(PostgresDatabase.URL_ENV) != null || "true".equals(System.getenv("CI"));
  }

  @Override
  String dsn() {
    return target.dsn();
  }

  @Override
  String uninstalledDsn() {
    return target.dsnWithoutSchema() + "?schema=" + emptySchema();
  }

  private String emptySchema() {
    return target.schema() + "_e";
  }

  /** The second schema exists only if a test installed into it and failed before uninstalling. */
  @AfterAll
  void dropEmptySchema() {
    Mono.usingWhen(Mono.from(target.adminConnectionFactory().create()),
            (Connection c) -> Flux.from(c.createStatement("DROP SCHEMA IF EXISTS " + emptySchema() + " CASCADE").execute())
                .flatMap(r -> Mono.from(r.getRowsUpdated())).then(),
            Connection::close)
        .block(Duration.ofSeconds(30));
  }
}
