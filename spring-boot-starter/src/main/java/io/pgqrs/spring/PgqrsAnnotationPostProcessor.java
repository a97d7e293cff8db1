package io.pgqrs.spring;

import io.pgqrs.InvalidArgumentException;
import io.pgqrs.workflow.WorkflowDefinition;
import io.pgqrs.workflow.WorkflowMethod;
import io.pgqrs.workflow.Workflows;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.BeanInitializationException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;

/**
 * Collects {@link PgqrsHandler} methods and {@link WorkflowMethod} beans as beans are initialised,
 * checking each signature at once so that a bad one fails start-up naming the method. The
 * {@link PgqrsWorkerLifecycle} starts what it collected.
 */
final class PgqrsAnnotationPostProcessor implements BeanPostProcessor, BeanFactoryAware {

  private final Set<Class<?>> withoutAnnotations = ConcurrentHashMap.newKeySet();
  private final List<HandlerMethod> handlers = new ArrayList<>();
  private final List<WorkflowBean> workflows = new ArrayList<>();
  private @Nullable ConfigurableBeanFactory beanFactory;

  /**
   * A bean whose {@link WorkflowMethod} defines a workflow, with the attributes of its
   * {@link PgqrsWorkflow} (placeholders resolved, trimmed; all empty without one).
   */
  record WorkflowBean(String beanName, WorkflowDefinition<?, ?> definition, String concurrency,
      String shutdownTimeout, String timeout) {

    /** How start-up errors name this workflow. */
    String description() {
      return "@PgqrsWorkflow of bean '" + beanName + "' (workflow '" + definition.name() + "')";
    }
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    if (beanFactory instanceof ConfigurableBeanFactory configurable) {
      this.beanFactory = configurable;
    }
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
    Class<?> type = AopUtils.getTargetClass(bean);
    if (withoutAnnotations.contains(type)
        || !AnnotationUtils.isCandidateClass(type, List.of(PgqrsHandler.class, WorkflowMethod.class))) {
      return bean;
    }
    Map<Method, PgqrsHandler> annotated = MethodIntrospector.selectMethods(type,
        (MethodIntrospector.MetadataLookup<PgqrsHandler>) m -> AnnotatedElementUtils.findMergedAnnotation(m, PgqrsHandler.class));
    Map<Method, WorkflowMethod> bodies = MethodIntrospector.selectMethods(type,
        (MethodIntrospector.MetadataLookup<WorkflowMethod>) m -> AnnotatedElementUtils.findMergedAnnotation(m, WorkflowMethod.class));
    if (annotated.isEmpty() && bodies.isEmpty()) {
      withoutAnnotations.add(type);
      return bean;
    }
    synchronized (this) {
      annotated.forEach((method, annotation) ->
          handlers.add(HandlerMethod.of(beanName, bean, method, annotation, this::resolve)));
      if (!bodies.isEmpty()) {
        try {
          PgqrsWorkflow options = bodies.keySet().stream()
              .map(m -> AnnotatedElementUtils.findMergedAnnotation(m, PgqrsWorkflow.class))
              .filter(java.util.Objects::nonNull).findFirst().orElse(null);
          workflows.add(new WorkflowBean(beanName, Workflows.fromAnnotated(bean),
              options == null ? "" : resolve(options.concurrency()).trim(),
              options == null ? "" : resolve(options.shutdownTimeout()).trim(),
              options == null ? "" : resolve(options.timeout()).trim()));
        } catch (InvalidArgumentException e) {
          throw new BeanInitializationException("@WorkflowMethod of bean '" + beanName + "' ("
              + bodies.keySet().stream().map(HandlerMethod::describe).toList() + "): " + e.getMessage(), e);
        }
      }
    }
    return bean;
  }

  private String resolve(String value) {
    ConfigurableBeanFactory factory = beanFactory;
    if (factory == null || value.isEmpty()) {
      return value;
    }
    String resolved = factory.resolveEmbeddedValue(value);
    return resolved == null ? "" : resolved;
  }

  synchronized List<HandlerMethod> handlers() {
    return List.copyOf(handlers);
  }

  synchronized List<WorkflowBean> workflows() {
    return List.copyOf(workflows);
  }
}
