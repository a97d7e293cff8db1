/**
 * Auto-configuration of the pgqrs web dashboard in a reactive (WebFlux) application, when the
 * {@code pgqrs-dashboard} module is on the class path and {@code pgqrs.dashboard.enabled=true}.
 */
@NullMarked
package io.pgqrs.spring.dashboard;

import org.jspecify.annotations.NullMarked;
