package io.pgqrs.contract;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgqrs.Store;
import io.pgqrs.internal.Engine;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.Producer;
import io.pgqrs.queue.QueueInfo;
import io.pgqrs.spi.StoreDriver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * Base of the contract suite: every behavioural test of the store is written once against
 * {@link Store} and run by one subclass per backend. A subclass opens a store on a fresh, empty
 * schema; the base installs pgqrs there and closes the store at the end. Each test makes its own
 * queues, so tests of one class never see each other's messages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class StoreContract {

  /** Upper bound for every blocking wait and StepVerifier in the suite. */
  protected static final Duration T = Duration.ofSeconds(30);

  private static final AtomicInteger QUEUES = new AtomicInteger();

  /** The store under test, installed. */
  protected Store store;

  /**
   * Opens a store on an empty schema of the backend under test.
   *
   * @return the connected store
   */
  protected abstract Store openStore();

  @BeforeAll
  void installStore() {
    store = openStore();
    store.admin().install().block(T);
  }

  @AfterAll
  void closeStore() {
    if (store != null) {
      store.close().block(T);
    }
  }

  /** The driver, for tests that move the clock with the SPI's {@code now} parameter. */
  protected StoreDriver driver() {
    return ((Engine) store).driver();
  }

  /** Creates a queue with a unique name. */
  protected String newQueue() {
    return newQueue(5);
  }

  /** Creates a queue with a unique name and the given max attempts. */
  protected String newQueue(int maxAttempts) {
    String name = "q" + QUEUES.incrementAndGet() + "_" + getClass().getSimpleName().toLowerCase();
    name = name.length() > 63 ? name.substring(0, 63) : name;
    QueueInfo q = store.queues().create(name, maxAttempts).block(T);
    return q.name();
  }

  protected Producer producer(String queue) {
    return store.producer(queue).build();
  }

  protected static ObjectNode payload(int n) {
    return JsonNodeFactory.instance.objectNode().put("n", n).put("body", "message " + n);
  }

  protected static Map<String, Object> mapPayload(int n) {
    return Map.of("n", n);
  }

  protected List<Message> claim(String queue, int limit) {
    return store.messages().claim(queue, limit).block(T);
  }
}
