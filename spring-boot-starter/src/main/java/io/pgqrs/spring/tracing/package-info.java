/** The starter's tracing part: the store's observations registered with the application's registry. */
@NullMarked
package io.pgqrs.spring.tracing;

import org.jspecify.annotations.NullMarked;
