package io.pgqrs.workflow;

import io.pgqrs.InvalidArgumentException;

/**
 * Defines workflows. A definition is a value, independent of any store; register it with
 * {@link Runs#register(WorkflowDefinition)} to trigger runs and start workers.
 *
 * <pre>{@code
 * WorkflowDefinition<Order, Receipt> checkout = Workflows.define("checkout", Order.class, Receipt.class,
 *     (ctx, order) -> ctx.step("charge", Charge.class, () -> payments.charge(order))
 *         .flatMap(charge -> ctx.step("ship", Shipment.class, () -> shipping.ship(order)))
 *         .map(shipment -> new Receipt(order.id(), shipment.tracking())));
 * }</pre>
 */
public final class Workflows {

  private Workflows() {}

  /**
   * Defines a workflow with default options (see {@link WorkflowDefinition}).
   *
   * @param name the workflow's name, also the name of its queue (1 to 63 letters, digits, '_', '.'
   *     or '-', starting with a letter or '_')
   * @param inputType the input class; inputs are stored as JSON with the store's object mapper
   * @param outputType the output class
   * @param body the workflow's body
   * @param <I> the input type
   * @param <O> the output type
   * @return the definition
   * @throws InvalidArgumentException if the name is invalid
   */
  public static <I, O> WorkflowDefinition<I, O> define(
      String name, Class<I> inputType, Class<O> outputType, WorkflowFunction<I, O> body) {
    return WorkflowDefinition.create(name, inputType, outputType, body);
  }

  /**
   * Defines a workflow from the one method of {@code target}'s class annotated
   * {@link WorkflowMethod}: {@code Mono<O> name(RunContext, I)}. The input type is the second
   * parameter's class and the output type the {@code Mono}'s type argument.
   *
   * @param target the object whose method is the body
   * @param <I> the input type
   * @param <O> the output type
   * @return the definition, with default options
   * @throws InvalidArgumentException if there is not exactly one such method, or its signature is
   *     not {@code Mono<O> (RunContext, I)}
   */
  @SuppressWarnings("unchecked")
  public static <I, O> WorkflowDefinition<I, O> fromAnnotated(Object target) {
    java.util.Objects.requireNonNull(target, "target");
    java.util.List<java.lang.reflect.Method> methods = new java.util.ArrayList<>();
    for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
      for (java.lang.reflect.Method method : type.getDeclaredMethods()) {
        if (method.isAnnotationPresent(WorkflowMethod.class)) {
          methods.add(method);
        }
      }
    }
    for (Class<?> api : target.getClass().getInterfaces()) {
      for (java.lang.reflect.Method method : api.getMethods()) {
        if (method.isAnnotationPresent(WorkflowMethod.class) && methods.stream().noneMatch(m -> m.getName().equals(method.getName()))) {
          methods.add(method);
        }
      }
    }
    if (methods.size() != 1) {
      throw new InvalidArgumentException("target", target.getClass().getName() + " must have exactly one @WorkflowMethod, has "
          + methods.size());
    }
    java.lang.reflect.Method method = methods.get(0);
    Class<?>[] parameters = method.getParameterTypes();
    if (parameters.length != 2 || parameters[0] != RunContext.class || method.getReturnType() != reactor.core.publisher.Mono.class
        || !(method.getGenericReturnType() instanceof java.lang.reflect.ParameterizedType returned)
        || !(returned.getActualTypeArguments()[0] instanceof Class<?> output)) {
      throw new InvalidArgumentException("target", "@WorkflowMethod " + method.getName()
          + " must be Mono<Output> " + method.getName() + "(RunContext, Input) with a non-generic Output");
    }
    method.setAccessible(true);
    String name = method.getAnnotation(WorkflowMethod.class).value();
    Class<I> inputType = (Class<I>) boxed(parameters[1]);
    return define(name.isEmpty() ? method.getName() : name, inputType, (Class<O>) output, (ctx, input) -> {
      try {
        return (reactor.core.publisher.Mono<O>) method.invoke(target, ctx, input);
      } catch (java.lang.reflect.InvocationTargetException e) {
        return reactor.core.publisher.Mono.error(e.getCause());
      } catch (IllegalAccessException e) {
        return reactor.core.publisher.Mono.error(e);
      }
    });
  }

  private static Class<?> boxed(Class<?> type) {
    return type.isPrimitive() ? java.lang.invoke.MethodType.methodType(type).wrap().returnType() : type;
  }
}
