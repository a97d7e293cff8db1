package io.pgqrs;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.internal.Engine;
import io.pgqrs.internal.Json;
import reactor.core.publisher.Mono;

/**
 * Entry point: connects a {@link Store}.
 *
 * <pre>{@code
 * Store store = Pgqrs.connect("postgresql://app@localhost/app?schema=jobs").block();
 * store.admin().install().block();
 * store.queues().create("emails").block();
 * long id = store.producer("emails").build().enqueue(Map.of("to", "a@example.com")).block();
 * }</pre>
 */
public final class Pgqrs {

  private Pgqrs() {}

  /**
   * Connects with a DSN and default options. Cold: each subscription opens a new pool.
   *
   * @param dsn {@code postgresql://user:password@host:port/database?schema=s}, {@code postgres://…};
   *     {@code sqlite:…} and {@code turso:…} with the SQLite adapter module on the class path
   * @return the store once a first connection succeeded; {@link ConfigurationException} naming the
   *     bad field for an invalid DSN, {@link StoreUnavailableException} if the database cannot be reached
   */
  public static Mono<Store> connect(String dsn) {
    return Mono.defer(() -> connect(PgqrsConfig.builder(dsn).build()));
  }

  /**
   * Connects with a configuration and the default JSON mapper (Jackson with Java time support).
   *
   * @param config the configuration
   * @return the store, as for {@link #connect(String)}
   */
  public static Mono<Store> connect(PgqrsConfig config) {
    return connect(config, Json.newMapper());
  }

  /**
   * Connects with a configuration and the application's Jackson mapper for payloads.
   *
   * @param config the configuration
   * @param mapper the mapper that converts payload objects to JSON
   * @return the store, as for {@link #connect(String)}
   */
  public static Mono<Store> connect(PgqrsConfig config, ObjectMapper mapper) {
    return Engine.connect(config, mapper);
  }
}
