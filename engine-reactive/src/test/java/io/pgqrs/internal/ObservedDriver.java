package io.pgqrs.internal;

import io.pgqrs.spi.StoreDriver;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.function.Consumer;

/** A real driver seen through a proxy, for tests that observe an engine's store traffic. */
final class ObservedDriver {

  private ObservedDriver() {}

  /**
   * The real driver, every call told to {@code onCall} by method name first.
   *
   * @param real the driver that does the work
   * @param answers methods, by name, answered with a fixed value instead of the real driver's
   * @param onCall told the name of every method called
   * @return the observed driver
   */
  static StoreDriver of(StoreDriver real, Map<String, Object> answers, Consumer<String> onCall) {
    return (StoreDriver) Proxy.newProxyInstance(StoreDriver.class.getClassLoader(), new Class<?>[] {StoreDriver.class},
        (proxy, method, args) -> {
          onCall.accept(method.getName());
          Object answer = answers.get(method.getName());
          if (answer != null) {
            return answer;
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
