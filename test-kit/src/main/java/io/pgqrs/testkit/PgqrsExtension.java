package io.pgqrs.testkit;

import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.Store;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * A JUnit 5 extension that gives each test a fresh pgqrs {@link Store}, installed, with a
 * {@link TestClock} and a {@link PgqrsTestKit}: as test method parameters of those types, and
 * injected into non-static fields of those types. Use it as {@code @PgqrsTest},
 * {@code @ExtendWith(PgqrsExtension.class)} (SQLite in memory) or
 * {@code @RegisterExtension static PgqrsExtension pgqrs = PgqrsExtension.builder()...build();}.
 *
 * <p>Per test: SQLite gets a new in-memory database; PostgreSQL a new schema
 * {@code pgqrs_tk_<random>}, dropped after the test with everything in it. The store polls every
 * {@value #POLL_INTERVAL_MILLIS} ms and uses the test clock as its
 * {@link PgqrsConfig#clock()}; workers the kit started are stopped and the store is closed after
 * the test. A PostgreSQL test without a URL is skipped, or fails under {@code CI=true}; a database
 * that cannot be reached fails the test.
 */
public final class PgqrsExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {

  /** The poll interval of the kit's stores and consumers, in milliseconds. */
  public static final long POLL_INTERVAL_MILLIS = 20;

  /** The environment variable naming the PostgreSQL database of {@link Backend#POSTGRES} tests. */
  public static final String POSTGRES_URL_ENV = "PGQRS_TEST_POSTGRES_URL";

  private static final Duration T = Duration.ofSeconds(30);
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(PgqrsExtension.class);

  private final @Nullable Backend backend;
  private final @Nullable String postgresUrl;
  private final UnaryOperator<PgqrsConfig.Builder> options;
  private final boolean declarative;

  /** The declarative form ({@code @PgqrsTest} or {@code @ExtendWith}); reads {@link PgqrsTest}. */
  public PgqrsExtension() {
    this(null, null, UnaryOperator.identity(), true);
  }

  private PgqrsExtension(@Nullable Backend backend, @Nullable String postgresUrl,
      UnaryOperator<PgqrsConfig.Builder> options, boolean declarative) {
    this.backend = backend;
    this.postgresUrl = postgresUrl;
    this.options = options;
    this.declarative = declarative;
  }

  /**
   * A builder for the {@code @RegisterExtension} form.
   *
   * @return a builder for SQLite in memory with the kit's defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures a {@link PgqrsExtension}. Not thread-safe. */
  public static final class Builder {
    private Backend backend = Backend.SQLITE_MEMORY;
    private @Nullable String postgresUrl;
    private UnaryOperator<PgqrsConfig.Builder> options = UnaryOperator.identity();

    private Builder() {}

    /**
     * Sets the backend; default {@link Backend#SQLITE_MEMORY}.
     *
     * @param value the backend
     * @return this builder
     */
    public Builder backend(Backend value) {
      this.backend = Objects.requireNonNull(value, "backend");
      return this;
    }

    /**
     * Sets the PostgreSQL database of {@link Backend#POSTGRES} (and selects that backend); default
     * the {@value #POSTGRES_URL_ENV} environment variable.
     *
     * @param url {@code postgresql://user@host:port/database}, without a {@code schema} parameter
     * @return this builder
     */
    public Builder postgresUrl(String url) {
      this.postgresUrl = Objects.requireNonNull(url, "url");
      this.backend = Backend.POSTGRES;
      return this;
    }

    /**
     * Adjusts the store's configuration after the kit's defaults (applied last, so it may
     * override them; the clock should stay the test clock).
     *
     * @param value applied to the configuration builder
     * @return this builder
     */
    public Builder config(UnaryOperator<PgqrsConfig.Builder> value) {
      this.options = Objects.requireNonNull(value, "config");
      return this;
    }

    /**
     * Builds the extension.
     *
     * @return the extension
     */
    public PgqrsExtension build() {
      return new PgqrsExtension(backend, postgresUrl, options, false);
    }
  }

  /** A declarative instance steps aside when the class also registers one programmatically. */
  private boolean active(ExtensionContext context) {
    if (!declarative) {
      return true;
    }
    Class<?> type = context.getRequiredTestClass();
    return AnnotationSupport.findAnnotatedFields(type, RegisterExtension.class,
        f -> PgqrsExtension.class.isAssignableFrom(f.getType())).isEmpty();
  }

  private Backend backendOf(ExtensionContext context) {
    if (backend != null) {
      return backend;
    }
    Optional<PgqrsTest> annotation = AnnotationSupport.findAnnotation(context.getRequiredTestClass(), PgqrsTest.class);
    return annotation.map(PgqrsTest::backend).orElse(Backend.SQLITE_MEMORY);
  }

  /**
   * Opens the test's store, installs the schema and injects the fields. Blocking, on the test
   * thread.
   *
   * @param context the test's context
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    if (!active(context)) {
      return;
    }
    Backend b = backendOf(context);
    TestClock clock = new TestClock();
    String id = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    String dsn;
    PostgresSchema postgres = null;
    SqliteMemoryDatabase memory = null;
    if (b == Backend.POSTGRES) {
      String url = postgresUrl != null ? postgresUrl : System.getenv(POSTGRES_URL_ENV);
      if (url == null || url.isBlank()) {
        String why = "no PostgreSQL for this test: set " + POSTGRES_URL_ENV + " or PgqrsExtension.builder().postgresUrl(..)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
          throw new ExtensionConfigurationException(why + " (CI=true: a missing database is a failure)");
        }
        Assumptions.abort(why);
      }
      if (url.contains("schema=")) {
        throw new ExtensionConfigurationException("the test PostgreSQL URL must not name a schema: the kit makes one per test");
      }
      String schema = "pgqrs_tk_" + id;
      dsn = url + (url.contains("?") ? "&" : "?") + "schema=" + schema;
      postgres = new PostgresSchema(url, schema);
    } else {
      dsn = "sqlite::memory:?name=tk" + id;
    }
    PgqrsConfig config = options.apply(PgqrsConfig.builder(dsn)
        .pollInterval(Duration.ofMillis(POLL_INTERVAL_MILLIS))
        .clock(clock)
        .storeClock(clock)).build();
    Store store;
    try {
      store = Pgqrs.connect(config).block(T);
      store.admin().install().block(T);
      if (b == Backend.SQLITE_MEMORY) {
        memory = new SqliteMemoryDatabase("tk" + id);
      }
    } catch (RuntimeException e) {
      if (postgres != null) {
        postgres.close();
      }
      throw e;
    }
    PgqrsTestKit kit = new PgqrsTestKit(b, config, clock, store);
    context.getStore(NS).put("kit", kit);
    context.getStore(NS).put("side", postgres != null ? postgres : memory);
    for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
      inject(instance, kit);
    }
  }

  private static void inject(Object instance, PgqrsTestKit kit) {
    for (Class<?> c = instance.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || Modifier.isFinal(f.getModifiers())) {
          continue;
        }
        Object value = valueFor(f.getType(), kit);
        if (value != null) {
          try {
            f.setAccessible(true);
            f.set(instance, value);
          } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExtensionConfigurationException("cannot inject " + f, e);
          }
        }
      }
    }
  }

  private static @Nullable Object valueFor(Class<?> type, PgqrsTestKit kit) {
    if (type == Store.class) {
      return kit.store();
    }
    if (type == TestClock.class) {
      return kit.clock();
    }
    if (type == PgqrsTestKit.class) {
      return kit;
    }
    return null;
  }

  /**
   * Stops the kit's workers, closes the store and drops the test's database or schema. Blocking.
   *
   * @param context the test's context
   */
  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    PgqrsTestKit kit = context.getStore(NS).remove("kit", PgqrsTestKit.class);
    AutoCloseable side = context.getStore(NS).remove("side", AutoCloseable.class);
    try {
      if (kit != null) {
        kit.close();
      }
    } finally {
      if (side instanceof PostgresSchema schema) {
        try {
          schema.dropSchema();
        } finally {
          schema.close();
        }
      } else if (side != null) {
        side.close();
      }
    }
  }

  /**
   * Whether a parameter is a {@link Store}, {@link TestClock} or {@link PgqrsTestKit}.
   *
   * @param parameter the parameter
   * @param context the context
   * @return true for those types, when this instance serves the test
   */
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return (type == Store.class || type == TestClock.class || type == PgqrsTestKit.class) && active(context);
  }

  /**
   * The test's store, clock or kit.
   *
   * @param parameter the parameter
   * @param context the context
   * @return the value
   */
  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    PgqrsTestKit kit = context.getStore(NS).get("kit", PgqrsTestKit.class);
    if (kit == null) {
      throw new ExtensionConfigurationException("the pgqrs test kit exists only in test methods (not in @BeforeAll)");
    }
    return Objects.requireNonNull(valueFor(parameter.getParameter().getType(), kit));
  }
}
