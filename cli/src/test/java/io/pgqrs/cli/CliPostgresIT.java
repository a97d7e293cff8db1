package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.testing.PostgresDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The tool on PostgreSQL, in a schema of this class's own, created and dropped by
 * {@link PostgresDatabase} ({@code PGQRS_TEST_POSTGRES_URL} first). Never skipped: without a
 * database the class fails.
 */
class CliPostgresIT extends CliContract {

  @RegisterExtension
  static final PostgresDatabase DATABASE = new PostgresDatabase();

  private static final String SECRET = "s3cr3t-Pw_9";

  private final PostgresDatabase.Target target;

  CliPostgresIT(PostgresDatabase.Target target) {
    this.target = target;
  }

  @Override
  String dsn() {
    return target.dsn();
  }

  /**
   * A DSN with a password (the server's own, or any where it trusts the user) is shown masked in
   * verify's report and in errors, and its password is printed nowhere.
   */
  @Test
  void aPasswordInTheDsnIsNeverPrinted() {
    String password = target.password() != null ? target.password() : SECRET;
    String dsn = "postgresql://" + target.user() + ":" + password + "@" + target.host() + ":" + target.port() + "/"
        + target.database() + "?schema=" + target.schema();

    CliProcess.Result verified = CliProcess.withDsn(dsn, "verify").exits(ExitCodes.OK);
    assertThat(verified.out()).contains("postgresql://" + target.user() + ":****@");
    assertThat(verified.printed()).doesNotContain(password);
    CliProcess.Result failed = CliProcess.withDsn(dsn, "--verbose", "queues", "metrics", "no_such_queue")
        .exits(ExitCodes.NOT_FOUND);
    assertThat(failed.err()).startsWith("pgqrs: queue 'no_such_queue' does not exist");
    assertThat(failed.printed()).doesNotContain(password);
  }
}
