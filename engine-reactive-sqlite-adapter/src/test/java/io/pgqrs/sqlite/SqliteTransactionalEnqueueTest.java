package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.ConfigurationException;
import io.pgqrs.Store;
import io.pgqrs.workflow.Workflow;
import io.pgqrs.workflow.Workflows;
import io.r2dbc.spi.Connection;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Enqueues and triggers in the caller's transaction are PostgreSQL's: SQLite refuses them with a typed error. */
class SqliteTransactionalEnqueueTest {

  private static final Duration T = Duration.ofSeconds(30);

  private Store store;

  @BeforeEach
  void open() {
    store = SqliteStores.newFileStore();
    store.admin().install().block(T);
  }

  @AfterEach
  void close() {
    store.close().block(T);
  }

  /**
   * An R2DBC connection that claims to be in a transaction and fails the test if the engine uses it:
   * SQLite has no R2DBC connection of its own, and refusing must not touch the caller's.
   */
  private static Connection callerConnection() {
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
        (proxy, method, args) -> {
          if (method.getName().equals("isAutoCommit")) {
            return false;
          }
          throw new AssertionError("the engine used the caller's connection: " + method.getName());
        });
  }

  @Test
  void theBoundViewsAreRefusedWithATypedError() {
    assertThat(store.capabilities().transactionalEnqueue()).isFalse();
    store.queues().create("tx").block(T);
    StepVerifier.create(store.producer("tx").build().inTransaction(callerConnection()).enqueue(Map.of("n", 1)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("PostgreSQL"))
        .verify(T);
    Workflow<String, String> workflow = store.runs().register(Workflows.define("tx_wf", String.class, String.class,
        (ctx, in) -> Mono.just(in))).block(T);
    StepVerifier.create(workflow.inTransaction(callerConnection()).trigger("x"))
        .expectError(ConfigurationException.class)
        .verify(T);
    assertThat(store.messages().claim("tx", 10).block(T)).isEmpty();
  }
}
