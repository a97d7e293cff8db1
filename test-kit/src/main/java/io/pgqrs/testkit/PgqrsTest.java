package io.pgqrs.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test class with {@link PgqrsExtension}: each test gets a fresh store on {@link #backend()},
 * injected as a parameter or into fields of type {@link io.pgqrs.Store}, {@link TestClock} and
 * {@link PgqrsTestKit}. Equivalent to {@code @ExtendWith(PgqrsExtension.class)} with the backend
 * chosen here; a {@code @RegisterExtension} field built with {@link PgqrsExtension#builder()} takes
 * precedence when both are present.
 */
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(PgqrsExtension.class)
public @interface PgqrsTest {

  /**
   * The database of each test.
   *
   * @return the backend; default {@link Backend#SQLITE_MEMORY}
   */
  Backend backend() default Backend.SQLITE_MEMORY;
}
