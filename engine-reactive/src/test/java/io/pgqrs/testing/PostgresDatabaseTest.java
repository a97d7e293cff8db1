package io.pgqrs.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.NullMarked;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@NullMarked
@ExtendWith(PostgresDatabase.class)
class PostgresDatabaseTest {

  private final PostgresDatabase.Target target;

  PostgresDatabaseTest(PostgresDatabase.Target target) {
    this.target = target;
  }

  @Test
  void selectOneWorks() {
    assertThat(query(target.adminConnectionFactory(), "SELECT 1::text")).containsExactly("1");
  }

  @Test
  void schemaExistsAndIsTheSearchPath() {
    assertThat(target.schema()).matches("pgqrs_t_postgresdatabasetest_[0-9a-f]{6}");
    assertThat(
            query(
                target.adminConnectionFactory(),
                "SELECT nspname::text FROM pg_namespace WHERE nspname = '" + target.schema() + "'"))
        .containsExactly(target.schema());
    assertThat(query(target.adminConnectionFactory(), "SELECT current_schema()::text"))
        .containsExactly(target.schema());
  }

  @Test
  void tablesLandInTheSchema() {
    ConnectionFactory cf = target.adminConnectionFactory();
    query(cf, "CREATE TABLE probe (id int)");
    assertThat(
            query(
                cf,
                "SELECT table_schema::text FROM information_schema.tables"
                    + " WHERE table_name = 'probe' AND table_schema = '" + target.schema() + "'"))
        .containsExactly(target.schema());
  }

  @Test
  void methodParameterIsTheSameTarget(PostgresDatabase.Target fromMethod) {
    assertThat(fromMethod).isEqualTo(target);
  }

  @Test
  void dsnFormat() {
    String base = "postgresql://" + target.user()
        + (target.password() == null ? "" : ":" + target.password())
        + "@" + target.host() + ":" + target.port() + "/" + target.database();
    assertThat(target.dsnWithoutSchema()).isEqualTo(base);
    assertThat(target.dsn()).isEqualTo(base + "?schema=" + target.schema());
    assertThat(target.dsn())
        .matches("postgresql://[^:@/]+(:[^@/]*)?@[^:/]+:\\d+/[^/?]+\\?schema=pgqrs_t_[a-z0-9_]+_[0-9a-f]{6}");

    PostgresDatabase.Target withSecret =
        new PostgresDatabase.Target("127.0.0.1", 5433, "test", "me", "p@ss:w/rd", "s1");
    assertThat(withSecret.dsn()).isEqualTo("postgresql://me:p%40ss%3Aw%2Frd@127.0.0.1:5433/test?schema=s1");
    assertThat(withSecret.toString()).doesNotContain("p@ss");
    assertThat(new PostgresDatabase.Target("::1", 5432, "test", "postgres", null, "s2").dsnWithoutSchema())
        .isEqualTo("postgresql://postgres@[::1]:5432/test");
  }

  @Test
  void schemaNamesAreValidIdentifiers() {
    class AVeryLongTestClassNameThatKeepsGoingAndGoingWellPastTheSixtyThreeCharacterLimit$Odd {}
    String name = PostgresDatabase.schemaName(
        AVeryLongTestClassNameThatKeepsGoingAndGoingWellPastTheSixtyThreeCharacterLimit$Odd.class);
    assertThat(name).hasSizeLessThanOrEqualTo(63).matches("pgqrs_t_[a-z0-9_]+_[0-9a-f]{6}");
    assertThat(name).startsWith("pgqrs_t_averylongtestclassname");
  }

  @Nested
  class NestedClass {
    @Test
    void sharesTheEnclosingSchema(PostgresDatabase.Target nested) {
      assertThat(nested).isEqualTo(target);
    }
  }

  private static List<String> query(ConnectionFactory cf, String sql) {
    List<String> rows =
        Flux.usingWhen(
                Mono.from(cf.create()),
                (Connection c) ->
                    Flux.from(c.createStatement(sql).execute())
                        .concatMap(r -> Flux.from(r.map((row, meta) -> String.valueOf(row.get(0))))),
                (Connection c) -> Mono.from(c.close()))
            .collectList()
            .block(Duration.ofSeconds(30));
    assertThat(rows).isNotNull();
    return rows;
  }
}
