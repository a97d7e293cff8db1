package io.pgqrs.bench.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.queue.Message;
import io.pgqrs.queue.ValidationRules;
import io.r2dbc.spi.Row;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Handles on the engine's package-private hot paths: {@code PayloadValidator.toCheckedJson} (what
 * every enqueue runs per payload) and {@code PostgresDriver.message(Row)} (what every claimed row
 * goes through). If the engine renames them, the lookup fails with a message saying which.
 */
public final class EngineInternals {

  private static final MethodHandle NEW_VALIDATOR;
  private static final MethodHandle TO_CHECKED_JSON;
  private static final MethodHandle MESSAGE_FROM_ROW;

  static {
    try {
      Class<?> validator = Class.forName("io.pgqrs.internal.PayloadValidator");
      MethodHandles.Lookup v = MethodHandles.privateLookupIn(validator, MethodHandles.lookup());
      NEW_VALIDATOR = v.findConstructor(validator,
          MethodType.methodType(void.class, ValidationRules.class, ObjectMapper.class));
      TO_CHECKED_JSON = v.findVirtual(validator, "toCheckedJson",
          MethodType.methodType(String.class, String.class, int.class, Object.class));
      Class<?> driver = Class.forName("io.pgqrs.postgres.PostgresDriver");
      MethodHandles.Lookup d = MethodHandles.privateLookupIn(driver, MethodHandles.lookup());
      MESSAGE_FROM_ROW = d.findStatic(driver, "message", MethodType.methodType(Message.class, Row.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("the engine's internals changed: " + e);
    }
  }

  private EngineInternals() {}

  /**
   * A payload validator as a producer builds it.
   *
   * @param rules the producer's rules
   * @param mapper the store's mapper
   * @return the validator (an engine-internal object)
   */
  public static Object validator(ValidationRules rules, ObjectMapper mapper) {
    try {
      return NEW_VALIDATOR.invoke(rules, mapper);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /**
   * Converts, validates and serializes one payload, as {@code enqueue} does.
   *
   * @param validator from {@link #validator(ValidationRules, ObjectMapper)}
   * @param payload the payload
   * @return the JSON text sent to the store
   */
  public static String toCheckedJson(Object validator, Object payload) {
    try {
      return (String) TO_CHECKED_JSON.invoke(validator, "bench", 0, payload);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  /**
   * Maps one claimed row to a {@link Message}, as the PostgreSQL store does.
   *
   * @param row the row
   * @return the message
   */
  public static Message message(Row row) {
    try {
      return (Message) MESSAGE_FROM_ROW.invoke(row);
    } catch (Throwable e) {
      throw rethrow(e);
    }
  }

  private static RuntimeException rethrow(Throwable e) {
    if (e instanceof RuntimeException r) {
      return r;
    }
    if (e instanceof Error err) {
      throw err;
    }
    return new IllegalStateException(e);
  }
}
