package io.pgqrs.internal;

import io.pgqrs.spi.StoreDriver;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A store driver running on a given clock ({@link io.pgqrs.PgqrsConfig#storeClock()}): every call
 * is given the clock's time as its "now" wherever the caller left the SPI's per-operation
 * override empty. The SPI carries that override in two forms, both filled here: a
 * {@code @Nullable Instant} parameter of a driver method (every {@code Instant} parameter of
 * {@link StoreDriver} is one), and a {@code now} component of a parameter record, at any depth
 * (a claim inside a run claim, the lease of a step inside a batch of steps). An override the
 * caller gave is kept.
 *
 * <p>Written once over the SPI instead of inside each driver, so every backend (and any driver of
 * another module) honours the store clock the same way, and an operation added to the SPI with a
 * {@code now} is covered without more code. The reflection costs a few microseconds per call and
 * is paid only by stores configured with a store clock, which are tests.
 */
final class StoreClockDriver implements InvocationHandler {

  /** The component "now" of each parameter record type, or none; and its canonical constructor. */
  private record Shape(RecordComponent[] components, @Nullable Constructor<?> constructor, boolean touched) {}

  private static final Map<Class<?>, Shape> SHAPES = new ConcurrentHashMap<>();

  private final StoreDriver real;
  private final Clock clock;

  private StoreClockDriver(StoreDriver real, Clock clock) {
    this.real = real;
    this.clock = clock;
  }

  /**
   * The driver {@code real} running on {@code clock}.
   *
   * @param real the backend's driver
   * @param clock the store's clock
   * @return a driver giving every operation the clock's time as its "now"
   */
  static StoreDriver over(StoreDriver real, Clock clock) {
    return (StoreDriver) Proxy.newProxyInstance(StoreDriver.class.getClassLoader(), new Class<?>[] {StoreDriver.class},
        new StoreClockDriver(real, clock));
  }

  @Override
  public @Nullable Object invoke(Object proxy, Method method, Object @Nullable [] args) throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> args != null && proxy == args[0];
        case "hashCode" -> System.identityHashCode(proxy);
        default -> "StoreClockDriver[" + real + "]";
      };
    }
    Object[] given = args;
    if (given != null) {
      Instant now = null;
      Class<?>[] types = method.getParameterTypes();
      for (int i = 0; i < given.length; i++) {
        if (types[i] == Instant.class && given[i] == null) {
          now = now != null ? now : clock.instant();
          given[i] = now;
        } else if (given[i] != null && needsNow(given[i].getClass())) {
          now = now != null ? now : clock.instant();
          given[i] = withNow(given[i], now);
        }
      }
    }
    try {
      return method.invoke(real, given);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** Whether values of a type may hold a "now" to fill: a record with one (at any depth), or a list. */
  private static boolean needsNow(Class<?> type) {
    return List.class.isAssignableFrom(type) || (type.isRecord() && shape(type).touched());
  }

  private static Shape shape(Class<?> type) {
    Shape known = SHAPES.get(type);
    if (known != null) {
      return known;
    }
    RecordComponent[] components = type.getRecordComponents();
    boolean touched = false;
    for (RecordComponent c : components) {
      Class<?> t = c.getType();
      // A record holding itself would recurse here; the SPI's records do not.
      touched |= (t == Instant.class && c.getName().equals("now")) || List.class.isAssignableFrom(t)
          || (t.isRecord() && t != type && shape(t).touched());
    }
    Constructor<?> constructor = null;
    if (touched) {
      Class<?>[] types = new Class<?>[components.length];
      for (int i = 0; i < components.length; i++) {
        types[i] = components[i].getType();
      }
      try {
        constructor = type.getDeclaredConstructor(types);
        constructor.setAccessible(true);
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new IllegalStateException("store clock: no canonical constructor for " + type.getName(), e);
      }
    }
    Shape shape = new Shape(components, constructor, touched);
    SHAPES.put(type, shape);
    return shape;
  }

  /** {@code value} with every empty "now" in it set to {@code now}; the same object when none was empty. */
  private static Object withNow(Object value, Instant now) {
    if (value instanceof List<?> list) {
      List<Object> copy = null;
      for (int i = 0; i < list.size(); i++) {
        Object element = list.get(i);
        Object filled = element != null && element.getClass().isRecord() ? withNow(element, now) : element;
        if (filled != element && copy == null) {
          copy = new ArrayList<>(list.subList(0, i));
        }
        if (copy != null) {
          copy.add(filled);
        }
      }
      return copy == null ? value : List.copyOf(copy);
    }
    Shape shape = shape(value.getClass());
    if (!shape.touched()) {
      return value;
    }
    RecordComponent[] components = shape.components();
    Object[] values = new Object[components.length];
    boolean changed = false;
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      Object v;
      try {
        Method accessor = c.getAccessor();
        accessor.setAccessible(true);
        v = accessor.invoke(value);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("store clock: cannot read " + c, e);
      }
      Object filled = v;
      if (c.getType() == Instant.class && c.getName().equals("now")) {
        filled = v == null ? now : v;
      } else if (v != null && (v instanceof List<?> || v.getClass().isRecord())) {
        filled = withNow(v, now);
      }
      changed |= filled != v;
      values[i] = filled;
    }
    if (!changed) {
      return value;
    }
    try {
      return shape.constructor().newInstance(values);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("store clock: cannot rebuild " + value.getClass().getName(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("store clock: cannot rebuild " + value.getClass().getName(), e);
    }
  }
}
