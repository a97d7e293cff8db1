package io.pgqrs.postgres;

import io.pgqrs.testing.PostgresDatabase;
import io.r2dbc.spi.Connection;
import java.time.Duration;
import java.util.Collections;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The generic plan of one of the store's statements, as a store connection caches it: the store's
 * connections plan each statement once, whatever its parameters (see {@code PostgresPlanTest}), so
 * that plan is the one every later call runs.
 */
final class GenericPlans {

  private static final Duration T = Duration.ofSeconds(60);
  private static final Pattern PARAMETER = Pattern.compile("\\$(\\d+)");

  private GenericPlans() {}

  /**
   * The generic plan of a statement, its parameters typed as given and bound to the arguments.
   *
   * @param db the test's database and schema
   * @param statement the statement's name in the SQL resources
   * @param types the parameter types, comma-separated, or null to let PostgreSQL infer them from
   *     the statement's casts
   * @param arguments the arguments, comma-separated SQL literals, or null for a NULL per parameter
   * @return the plan, one line per node
   */
  static String of(PostgresDatabase.Target db, String statement, String types, String arguments) {
    String text = PostgresStatements.forSchema(db.schema()).get(statement);
    String bound = arguments != null ? arguments : String.join(", ", Collections.nCopies(parameters(text), "NULL"));
    String typed = types == null ? "" : "(" + types + ")";
    String execute = bound.isEmpty() ? "EXPLAIN EXECUTE planned_statement" : "EXPLAIN EXECUTE planned_statement(" + bound + ")";
    return Mono.usingWhen(Mono.from(db.adminConnectionFactory().create()),
            c -> lines(c, "SET plan_cache_mode = force_generic_plan")
                // Inside a DO block, as the driver refuses $n in a statement it sends without parameters.
                .thenMany(lines(c, "DO $do$ BEGIN EXECUTE $prepare$PREPARE planned_statement" + typed + " AS " + text
                    + "$prepare$; END $do$"))
                .thenMany(lines(c, execute))
                .collectList()
                .map(rows -> String.join("\n", rows)),
            Connection::close)
        .block(T);
  }

  /** The highest $n a statement names. */
  private static int parameters(String text) {
    int highest = 0;
    Matcher m = PARAMETER.matcher(text);
    while (m.find()) {
      highest = Math.max(highest, Integer.parseInt(m.group(1)));
    }
    return highest;
  }

  /** Runs a statement without parameters through the simple query protocol. */
  static Flux<String> lines(Connection c, String sql) {
    return Flux.from(c.createBatch().add(sql).execute()).flatMap(r -> r.map((row, meta) -> row.get(0, String.class)));
  }
}
