package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

/**
 * The generic plans of the hot statements on tables no ANALYZE has seen yet, as a store's
 * connections make them in the first minute after install: PostgreSQL takes such a table for ten
 * pages of a few hundred rows, and a plan made then stays in the connection while the table grows.
 * Looked up by a set of keys, the rows must still be reached through their primary keys (see "Rows
 * by key" in common.sql): a plan that scans the runs table, or walks every live message, costs
 * more with every run the store has held (measured before: 0.45 ms more per step record at 6,000
 * runs).
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresNewTablePlanTest {

  private static final Duration T = Duration.ofSeconds(60);

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresNewTablePlanTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void setUp() {
    store = Pgqrs.connect(db.dsn()).block(T);
    store.admin().install().block(T);
  }

  @AfterAll
  void tearDown() {
    store.close().block(T);
  }

  @Test
  void theTablesHaveNeverBeenAnalyzed() {
    // The condition every plan below is judged in: reltuples is -1 until a VACUUM or ANALYZE.
    Long analyzed = Mono.usingWhen(Mono.from(db.adminConnectionFactory().create()),
        c -> Mono.from(c.createStatement("SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
                + "WHERE s.nspname = $1 AND c.relname IN ('pgqrs_runs', 'pgqrs_messages', 'pgqrs_steps') "
                + "AND c.reltuples >= 0").bind("$1", db.schema()).execute())
            .flatMap(r -> Mono.from(r.map((row, meta) -> row.get(0, Long.class)))),
        Connection::close).block(T);
    assertThat(analyzed).isZero();
  }

  @Test
  void noStatementOutsideListingsAndMaintenanceScansATableThatGrowsWithUse() {
    // Every statement of the SQL resources, so a new one is judged without being named here.
    Map<String, String> allowed = Map.of(
        "list_messages", "a listing, filtered by any column",
        "list_runs", "a listing, filtered by any column",
        "queue_metrics", "counts over every queue's rows",
        "uncancelled_children", "the reaper's sweep over child runs",
        "purge_archived_batch", "maintenance, a batch of the oldest archived rows");
    Set<String> notPlannable = Set.of("create_migrations_table", "create_schema", "drop_owned_tables",
        "drop_schema_if_empty", "no_statement_timeout", "listen", "vacuum_messages",
        // $5 is both text and jsonb in its text: PostgreSQL infers no single type for it.
        "create_queue");
    Pattern scan = Pattern.compile("Seq Scan on (pgqrs_messages|pgqrs_archive|pgqrs_runs|pgqrs_steps|pgqrs_signals"
        + "|pgqrs_run_events)\\b");
    List<String> scanning = new ArrayList<>();
    int planned = 0;
    for (String name : new TreeSet<>(PostgresStatements.forSchema(db.schema()).all().keySet())) {
      if (name.startsWith("_") || notPlannable.contains(name)) {
        continue;
      }
      String plan = GenericPlans.of(db, name, null, null);
      planned++;
      Matcher m = scan.matcher(plan);
      if (m.find() && !allowed.containsKey(name)) {
        scanning.add(name + " (" + m.group(1) + ")");
      }
    }
    assertThat(planned).as("statements planned").isGreaterThan(80);
    assertThat(scanning).as("statements whose generic plan scans a table that grows with use").isEmpty();
  }

  @Test
  void aStepRecordTakesItsRunAndMessageByTheirKeys() {
    String plan = GenericPlans.of(db, "record_steps", null, null);
    assertThat(plan).as(plan).contains("pgqrs_runs_pkey").contains("pgqrs_messages_pkey")
        .doesNotContain("Seq Scan on pgqrs_runs").doesNotContain("Seq Scan on pgqrs_messages")
        .doesNotContain("pgqrs_messages_group_idx");
  }

  @Test
  void aFinishTakesItsRunsAndMessagesByTheirKeys() {
    String plan = GenericPlans.of(db, "finish_leased_runs", null, null);
    assertThat(plan).as(plan).contains("pgqrs_runs_pkey").contains("pgqrs_messages_pkey")
        .doesNotContain("Seq Scan on pgqrs_runs").doesNotContain("Seq Scan on pgqrs_messages")
        .doesNotContain("Seq Scan on pgqrs_steps").doesNotContain("pgqrs_messages_group_idx");
  }

  @Test
  void aClaimLeasesItsMessagesByTheirKeys() {
    String claim = GenericPlans.of(db, "claim", "timestamptz, text, bigint, bigint, bigint", "NULL, 'q', 10, NULL, 30000");
    assertThat(claim).as(claim).contains("pgqrs_messages_pkey").doesNotContain("Seq Scan on pgqrs_messages");
    String fair = GenericPlans.of(db, "claim_fair", "timestamptz, text, bigint, bigint, bigint",
        "NULL, 'q', 10, NULL, 30000");
    assertThat(fair).as(fair).contains("pgqrs_messages_pkey").doesNotContain("Seq Scan on pgqrs_messages");
    String runs = GenericPlans.of(db, "claim_runs", "timestamptz, text, bigint, bigint, bigint, text[], text[]",
        "NULL, 'q', 10, NULL, 30000, ARRAY['PENDING'], ARRAY['RUNNING']");
    assertThat(runs).as(runs).contains("pgqrs_messages_pkey").contains("pgqrs_runs_pkey")
        .doesNotContain("Seq Scan on pgqrs_messages").doesNotContain("Seq Scan on pgqrs_runs");
  }

  @Test
  void aSettleThatDidNotApplyLooksItsArchivedRowUpByItsKey() {
    String settle = GenericPlans.of(db, "settle_many", null, null);
    assertThat(settle).as(settle).contains("pgqrs_archive_pkey").doesNotContain("Seq Scan on pgqrs_archive")
        .doesNotContain("Seq Scan on pgqrs_messages");
    String fused = GenericPlans.of(db, "claim_settling", null, null);
    assertThat(fused).as(fused).contains("pgqrs_archive_pkey").doesNotContain("Seq Scan on pgqrs_archive")
        .doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void theResultWaitersLookUpsTakeTheRunsByTheirKeys() {
    String find = GenericPlans.of(db, "find_runs", null, null);
    assertThat(find).as(find).contains("pgqrs_runs_pkey").doesNotContain("Seq Scan on pgqrs_runs");
    String await = GenericPlans.of(db, "await_runs", null, null);
    assertThat(await).as(await).contains("pgqrs_runs_pkey").doesNotContain("Seq Scan on pgqrs_runs");
  }
}
