package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.admin.SchemaReport;
import io.pgqrs.internal.Engine;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.test.StepVerifier;

/**
 * Uninstall on a real tursodb server over Hrana: the statements that find the tables install made
 * run there too, after a full and after a partial install.
 */
class TursoUninstallTest {

  private static final Duration T = Duration.ofSeconds(30);

  @RegisterExtension
  static final TursoServer SERVER = new TursoServer();

  @Test
  void uninstallAfterAPartialAndAFullInstallLeavesNoPgqrsTable() {
    Store store = SERVER.connect();
    try {
      ((SqliteDriver) ((Engine) store).driver()).migrate(2).block(T);
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
      assertNothingInstalled(store.admin().verify().block(T));
      store.admin().install().block(T);
      StepVerifier.create(store.admin().uninstall()).expectComplete().verify(T);
      assertNothingInstalled(store.admin().verify().block(T));
    } finally {
      store.close().block(T);
    }
  }

  private static void assertNothingInstalled(SchemaReport report) {
    assertThat(report.installedVersion()).isZero();
    assertThat(report.missing()).contains("pgqrs_migrations", "pgqrs_queues", "pgqrs_sweeps", "pgqrs_runs");
  }
}
