/**
 * The engine core behind the public API. Not API: types here may change in any release.
 */
@NullMarked
package io.pgqrs.internal;

import org.jspecify.annotations.NullMarked;
