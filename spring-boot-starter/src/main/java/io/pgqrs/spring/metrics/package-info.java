/** The starter's Micrometer part: the store's meters bound to the application's registry. */
@NullMarked
package io.pgqrs.spring.metrics;

import org.jspecify.annotations.NullMarked;
