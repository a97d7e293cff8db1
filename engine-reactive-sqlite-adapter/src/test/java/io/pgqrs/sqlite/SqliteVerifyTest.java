package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Store;
import io.pgqrs.admin.SchemaReport;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * {@code verify()} on a SQLite file checks every table and index of the migrations, the workflow
 * ones included, as PostgreSQL's does: objects dropped behind the store's back are reported.
 */
class SqliteVerifyTest {

  private static final Duration T = Duration.ofSeconds(30);
  /** Every table and index the migrations create, as the PostgreSQL driver's verify lists them. */
  private static final List<String> ALL_OBJECTS = List.of("pgqrs_migrations", "pgqrs_queues", "pgqrs_workers",
      "pgqrs_messages", "pgqrs_messages_claim_idx", "pgqrs_messages_dedup_idx", "pgqrs_messages_owner_idx",
      "pgqrs_messages_archived_idx", "pgqrs_messages_dead_idx", "pgqrs_workers_queue_idx", "pgqrs_sweeps",
      "pgqrs_messages_archived_at_idx", "pgqrs_workflows", "pgqrs_runs", "pgqrs_steps", "pgqrs_signals",
      "pgqrs_runs_key_idx", "pgqrs_runs_list_idx", "pgqrs_runs_open_idx", "pgqrs_signals_pending_idx",
      "pgqrs_messages_dead_at_idx", "pgqrs_runs_finished_idx", "pgqrs_signals_run_idx", "pgqrs_steps_position_idx",
      "pgqrs_messages_leased_idx", "pgqrs_messages_group_idx", "pgqrs_schedules", "pgqrs_schedules_due_idx",
      "pgqrs_run_events", "pgqrs_run_events_position_idx", "pgqrs_run_events_run_idx");

  private Path file;
  private Store store;

  @BeforeEach
  void openStore() {
    file = SqliteStores.newFile();
    store = SqliteStores.file(file);
  }

  @AfterEach
  void closeStore() {
    store.close().block(T);
  }

  /** Runs a statement on the file over a connection of its own, beside the store's. */
  private void onTheFile(String statement) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  @Test
  void anEmptyFileLacksEveryObjectInOrder() {
    StepVerifier.create(store.admin().verify())
        .assertNext(r -> {
          assertThat(r.missing()).containsExactlyElementsOf(ALL_OBJECTS);
          assertThat(r.installedVersion()).isZero();
          assertThat(r.isValid()).isFalse();
        })
        .expectComplete().verify(T);
  }

  @Test
  void anInstalledFileLacksNothing() {
    store.admin().install().block(T);
    StepVerifier.create(store.admin().verify())
        .assertNext(r -> {
          assertThat(r.missing()).isEmpty();
          assertThat(r.installedVersion()).isEqualTo(r.expectedVersion());
          assertThat(r.isValid()).isTrue();
        })
        .expectComplete().verify(T);
  }

  @Test
  void aDroppedWorkflowTableIsReportedMissing() throws SQLException {
    store.admin().install().block(T);
    onTheFile("DROP TABLE pgqrs_signals");
    SchemaReport report = store.admin().verify().block(T);
    // The table's indexes go with it.
    assertThat(report.missing()).containsExactly("pgqrs_signals", "pgqrs_signals_pending_idx", "pgqrs_signals_run_idx");
    assertThat(report.installedVersion()).isEqualTo(report.expectedVersion());
    assertThat(report.isValid()).isFalse();
  }

  @Test
  void aDroppedWorkflowIndexIsReportedMissing() throws SQLException {
    store.admin().install().block(T);
    onTheFile("DROP INDEX pgqrs_runs_open_idx");
    SchemaReport report = store.admin().verify().block(T);
    assertThat(report.missing()).containsExactly("pgqrs_runs_open_idx");
    assertThat(report.isValid()).isFalse();
  }
}
