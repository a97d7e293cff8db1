package io.pgqrs.exampleapp;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A fresh PostgreSQL schema for one test class, on the server of {@value #URL_ENV}, dropped after
 * the class. Without the variable the class is skipped, except with {@code CI=true}, where it
 * fails: CI never skips these tests.
 *
 * <pre>{@code
 * @RegisterExtension static final PostgresSchema DATABASE = new PostgresSchema();
 * ... DATABASE.dsn() ...   // postgresql://...?schema=pgqrs_app_<class>_<hex>
 * }</pre>
 */
final class PostgresSchema implements BeforeAllCallback, AfterAllCallback {

  static final String URL_ENV = "PGQRS_TEST_POSTGRES_URL";

  private static final Duration WAIT = Duration.ofSeconds(30);

  private String url = "";
  private String schema = "";

  /**
   * The DSN of the class's schema, for {@code pgqrs.dsn}.
   *
   * @return the server's URL with {@code ?schema=}
   */
  String dsn() {
    if (schema.isEmpty()) {
      throw new IllegalStateException("the schema exists only between beforeAll and afterAll");
    }
    return url + (url.contains("?") ? "&" : "?") + "schema=" + schema;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    String configured = System.getenv(URL_ENV);
    if (configured == null || configured.isBlank()) {
      String message = URL_ENV + " is not set: it names the PostgreSQL server these tests run on, "
          + "for example postgresql://postgres@127.0.0.1:5432/test";
      if ("true".equals(System.getenv("CI"))) {
        throw new ExtensionConfigurationException(message + " (CI=true: the tests may not be skipped)");
      }
      throw new TestAbortedException(message);
    }
    url = configured.strip();
    String name = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    schema = "pgqrs_app_" + name.substring(0, Math.min(name.length(), 40))
        + String.format("_%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    execute("CREATE SCHEMA " + schema);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (!schema.isEmpty()) {
      execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      schema = "";
    }
  }

  private void execute(String sql) {
    // The admin connection needs only the server: the URL without its query, in R2DBC's form.
    String server = url.replaceFirst("^postgres://", "postgresql://").replaceFirst("\\?.*$", "");
    Mono.usingWhen(Mono.from(ConnectionFactories.get("r2dbc:" + server).create()),
            (Connection c) -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> Mono.from(r.getRowsUpdated())).then(),
            Connection::close)
        .block(WAIT);
  }
}
