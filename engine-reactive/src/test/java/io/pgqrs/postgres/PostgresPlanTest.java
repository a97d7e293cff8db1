package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.Pgqrs;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * How PostgreSQL runs the store's statements: its connections plan cached statements once
 * (generic plans), and the generic plans of the hot statements walk indexes, never the messages
 * table, even when the archived rows in that table outnumber the live ones by far. A generic plan
 * does not see the parameters, so a query the planner may answer with a sequential scan (a min()
 * or an EXISTS over a queue's rows) pays for the whole archive at every claim.
 */
@ExtendWith(PostgresDatabase.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresPlanTest {

  private static final Duration T = Duration.ofSeconds(60);
  private static final String QUEUE = "planned";
  /** A queue of three messages, for the test that the planned claim still answers right. */
  private static final String SMALL = "small";

  private final PostgresDatabase.Target db;
  private Store store;

  PostgresPlanTest(PostgresDatabase.Target db) {
    this.db = db;
  }

  @BeforeAll
  void setUp() {
    store = Pgqrs.connect(db.dsn()).block(T);
    store.admin().install().block(T);
    store.queues().create(QUEUE).block(T);
    store.queues().create(SMALL).block(T);
    // Dead letters first, then a small backlog: a scan in physical order reads every row that is
    // not live before it finds a live one. The archive, a table of its own, gets as many rows, so a
    // plan that scans it shows too.
    admin(c -> Flux.concat(
        Flux.from(c.createStatement("INSERT INTO pgqrs_messages (queue_id, payload, state, enqueued_at, visible_at, "
            + "due_at, dead_at) SELECT q.id, '{}', 'dead', now(), now(), now(), now() "
            + "FROM pgqrs_queues q, generate_series(1, 20000) WHERE q.name = '" + QUEUE + "'").execute())
            .flatMap(r -> r.getRowsUpdated()),
        Flux.from(c.createStatement("INSERT INTO pgqrs_archive (id, queue_id, payload, priority, attempts, "
            + "enqueued_at, visible_at, due_at, archived_at) SELECT -g, q.id, '{}', 0, 1, now(), now(), now(), now() "
            + "FROM pgqrs_queues q, generate_series(1, 20000) AS g WHERE q.name = '" + QUEUE + "'").execute())
            .flatMap(r -> r.getRowsUpdated()),
        Flux.from(c.createStatement("ANALYZE pgqrs_archive").execute()).flatMap(r -> r.getRowsUpdated()),
        // Then a long backlog: the planner guesses that a claim of an unknown size takes a share of
        // it, and may join the claim's writes to those rows by scanning the table (it did: 7 ms per
        // claim of four at 40,000 rows).
        Flux.from(c.createStatement("INSERT INTO pgqrs_messages (queue_id, payload, state, enqueued_at, visible_at, "
            + "due_at) SELECT q.id, '{}', 'live', now(), now(), now() "
            + "FROM pgqrs_queues q, generate_series(1, 20000) WHERE q.name = '" + QUEUE + "'").execute())
            .flatMap(r -> r.getRowsUpdated()),
        Flux.from(c.createStatement("ANALYZE pgqrs_messages").execute()).flatMap(r -> r.getRowsUpdated()))
        .then());
    store.producer(SMALL).build().enqueueBatch(List.of(io.pgqrs.queue.NewMessage.of(Map.of("n", 1)),
        io.pgqrs.queue.NewMessage.of(Map.of("n", 2)), io.pgqrs.queue.NewMessage.of(Map.of("n", 3)))).block(T);
  }

  @AfterAll
  void tearDown() {
    store.close().block(T);
  }

  private PostgresDriver driver() {
    return (PostgresDriver) ((Engine) store).driver();
  }

  private <T> T admin(java.util.function.Function<Connection, Mono<T>> work) {
    return Mono.usingWhen(Mono.from(db.adminConnectionFactory().create()), work, Connection::close).block(T);
  }

  /** The generic plan of a statement, as a store connection would cache it. */
  private String genericPlan(String statement, String types, String arguments) {
    return GenericPlans.of(db, statement, types, arguments);
  }

  @Test
  void storeConnectionsPlanCachedStatementsOnce() {
    String mode = Mono.usingWhen(driver().pool().create(),
        c -> Mono.from(GenericPlans.lines(c, "SHOW plan_cache_mode")), Connection::close).block(T);
    assertThat(mode).isEqualTo("force_generic_plan");
  }

  @Test
  void theGenericPlanOfAClaimNeverScansTheMessagesTable() {
    String plan = genericPlan("claim", "timestamptz, text, bigint, bigint, bigint",
        "NULL, '" + QUEUE + "', 10, NULL, 30000");
    assertThat(plan).as(plan).contains("pgqrs_messages_claim_idx").contains("pgqrs_messages_visible_idx")
        .doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void theGenericPlanOfAFusedClaimAndSettleNeverScansTheMessagesTable() {
    String plan = genericPlan("claim_settling",
        "timestamptz, text, bigint, bigint, bigint, bigint[], text[], text[], bigint[], text[]",
        "NULL, '" + QUEUE + "', 10, NULL, 30000, ARRAY[1, 2]::bigint[], ARRAY['a', 'b'], ARRAY['archive', 'release'], "
            + "ARRAY[NULL, 0]::bigint[], ARRAY[NULL, NULL]::text[]");
    assertThat(plan).as(plan).contains("pgqrs_messages_claim_idx").doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void theGenericPlansOfTheBatchedSettlesAndExtensionsNeverScanTheMessagesTable() {
    String settle = genericPlan("settle_many", "timestamptz, bigint[], text[], text[], bigint[], text[]",
        "NULL, ARRAY[1, 2]::bigint[], ARRAY['a', 'b'], ARRAY['archive', 'release'], ARRAY[NULL, 0]::bigint[], "
            + "ARRAY[NULL, NULL]::text[]");
    assertThat(settle).as(settle).doesNotContain("Seq Scan on pgqrs_messages").doesNotContain("Seq Scan on pgqrs_archive");
    String archive = genericPlan("archive_many", "timestamptz, bigint[], text[]",
        "NULL, ARRAY[1, 2]::bigint[], ARRAY['a', 'b']");
    assertThat(archive).as(archive).doesNotContain("Seq Scan on pgqrs_messages");
    String extend = genericPlan("extend_many", "timestamptz, bigint[], text[], bigint[]",
        "NULL, ARRAY[1, 2]::bigint[], ARRAY['a', 'b'], ARRAY[30000, 30000]::bigint[]");
    assertThat(extend).as(extend).doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void theGenericPlanOfAFairClaimNeverScansTheMessagesTable() {
    String plan = genericPlan("claim_fair", "timestamptz, text, bigint, bigint, bigint",
        "NULL, '" + QUEUE + "', 10, NULL, 30000");
    assertThat(plan).as(plan).contains("pgqrs_messages_visible_idx").doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void theGenericPlanOfAWorkflowWorkersClaimNeverScansTheMessagesTable() {
    String plan = genericPlan("claim_runs", "timestamptz, text, bigint, bigint, bigint, text[], text[]",
        "NULL, '" + QUEUE + "', 10, NULL, 30000, ARRAY['PENDING'], ARRAY['RUNNING']");
    assertThat(plan).as(plan).contains("pgqrs_messages_visible_idx").doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void theGenericPlanOfTheTimeUntilTheNextMessageReadsOneIndexEntry() {
    String plan = genericPlan("until_next_visible", "timestamptz, text", "NULL, '" + QUEUE + "'");
    assertThat(plan).as(plan).contains("pgqrs_messages_visible_idx").doesNotContain("Seq Scan on pgqrs_messages");
  }

  @Test
  void aClaimOnTheLargeArchiveTakesTheBacklogAndTellsWhatItLeft() {
    // The plan test above is only worth something if the statement still answers right.
    var claimed = driver().claim(new io.pgqrs.spi.StoreParams.Claim(SMALL, 2, Duration.ofSeconds(30), null, null))
        .block(T);
    assertThat(claimed.claimed()).hasSize(2);
    assertThat(claimed.untilNextVisible()).as("a third message is visible").isEqualTo(Duration.ZERO);
    var last = driver().claim(new io.pgqrs.spi.StoreParams.Claim(SMALL, 2, Duration.ofSeconds(30), null, null))
        .block(T);
    assertThat(last.claimed()).hasSize(1);
    assertThat(last.untilNextVisible()).as("only leased messages are left: visible when their leases end")
        .isNotNull().isPositive().isLessThanOrEqualTo(Duration.ofSeconds(30));
  }
}
