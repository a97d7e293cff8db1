package io.pgqrs.spring;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgqrs.queue.Delivery;
import io.pgqrs.queue.Message;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.BeanInitializationException;
import org.springframework.util.ReflectionUtils;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One {@link PgqrsHandler} method of one bean: its checked signature and its annotation's
 * attributes with placeholders resolved. Immutable.
 */
final class HandlerMethod {

  /** How the message reaches the method. */
  private enum Argument { DELIVERY, MESSAGE, JSON, CONVERTED }

  private final String beanName;
  private final Object bean;
  private final Method method;
  private final Method invocable;
  private final Argument argument;
  private final boolean blocking;
  private final PgqrsHandler annotation;
  private final Function<String, String> resolver;

  private HandlerMethod(String beanName, Object bean, Method method, Argument argument, boolean blocking,
      PgqrsHandler annotation, Function<String, String> resolver) {
    this.beanName = beanName;
    this.bean = bean;
    this.method = method;
    this.invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
    ReflectionUtils.makeAccessible(invocable);
    this.argument = argument;
    this.blocking = blocking;
    this.annotation = annotation;
    this.resolver = resolver;
  }

  /**
   * Checks a method's signature.
   *
   * @throws BeanInitializationException naming the method if the signature is not supported
   */
  static HandlerMethod of(String beanName, Object bean, Method method, PgqrsHandler annotation,
      Function<String, String> resolver) {
    String where = describe(method);
    if (method.getParameterCount() != 1) {
      throw new BeanInitializationException("@PgqrsHandler method " + where + " must take exactly one parameter"
          + " (the payload type, JsonNode, Message or Delivery), has " + method.getParameterCount());
    }
    Class<?> parameter = method.getParameterTypes()[0];
    if (Delivery.class.isAssignableFrom(parameter) && parameter != Delivery.class) {
      throw new BeanInitializationException("@PgqrsHandler method " + where + " must take Delivery itself, not "
          + parameter.getName());
    }
    Class<?> returned = method.getReturnType();
    boolean blocking = returned == void.class;
    if (!blocking && !Publisher.class.isAssignableFrom(returned)) {
      throw new BeanInitializationException("@PgqrsHandler method " + where + " must return void or a Publisher"
          + " (Mono, Flux), returns " + returned.getName());
    }
    if (java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
      throw new BeanInitializationException("@PgqrsHandler method " + where + " must not be static");
    }
    if (resolver.apply(annotation.queue()).isBlank()) {
      throw new BeanInitializationException("@PgqrsHandler method " + where + " must name a queue");
    }
    Argument argument = parameter == Message.class ? Argument.MESSAGE
        : parameter == Delivery.class ? Argument.DELIVERY
        : parameter == JsonNode.class ? Argument.JSON : Argument.CONVERTED;
    return new HandlerMethod(beanName, bean, method, argument, blocking, annotation, resolver);
  }

  static String describe(Method method) {
    return method.getDeclaringClass().getName() + "." + method.getName() + "("
        + (method.getParameterCount() == 1 ? method.getParameterTypes()[0].getSimpleName() : "...") + ")";
  }

  /** The method, for messages: {@code com.example.Emails.send(Email)}. */
  String description() {
    return describe(method) + " of bean '" + beanName + "'";
  }

  /** The annotation attribute, placeholders resolved, trimmed; empty when unset. */
  String attribute(Function<PgqrsHandler, String> attribute) {
    return resolver.apply(attribute.apply(annotation)).trim();
  }

  PgqrsHandler annotation() {
    return annotation;
  }

  /**
   * The handler function given to {@code Consumer.handleDeliveries}: converts the delivery to the
   * method's parameter (the delivery itself, its message, or its payload) and invokes it, on
   * {@code boundedElastic} when the method is {@code void}. A method that takes the delivery may
   * settle it itself; one that does not is settled from its outcome.
   */
  Function<Delivery, Publisher<?>> handler(ObjectMapper mapper) {
    Type generic = method.getGenericParameterTypes()[0];
    JavaType type = argument == Argument.CONVERTED ? mapper.getTypeFactory().constructType(generic) : null;
    return delivery -> {
      Mono<?> invocation = Mono.defer(() -> {
        Object result = invoke(argument == Argument.DELIVERY ? delivery
            : argumentOf(delivery.message(), mapper, type));
        if (blocking || result == null) {
          return Mono.empty();
        }
        return Mono.from((Publisher<?>) result);
      });
      return blocking ? invocation.subscribeOn(Schedulers.boundedElastic()) : invocation;
    };
  }

  private Object argumentOf(Message message, ObjectMapper mapper, @Nullable JavaType type) {
    return switch (argument) {
      case DELIVERY, MESSAGE -> message;
      case JSON -> message.payload();
      case CONVERTED -> {
        try {
          yield mapper.treeToValue(message.payload(), type);
        } catch (Exception e) {
          throw new PayloadConversionException("message " + message.id() + " of queue '" + message.queue()
              + "' cannot be converted to " + type + " for " + describe(method) + ": " + e.getMessage(), e);
        }
      }
    };
  }

  private @Nullable Object invoke(Object argument) {
    try {
      return invocable.invoke(bean, argument);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new HandlerFailedException(describe(method) + " failed: " + cause, cause);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot invoke " + describe(method), e);
    }
  }

  /** A payload that the method's parameter type cannot hold: retrying would fail again. */
  static final class PayloadConversionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PayloadConversionException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A checked exception thrown by a handler method, carried as its cause. */
  static final class HandlerFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HandlerFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
