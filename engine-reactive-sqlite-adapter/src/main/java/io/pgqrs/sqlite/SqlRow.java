package io.pgqrs.sqlite;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One result row, by lower-case column label; values as the SQLite driver returns them. */
record SqlRow(Map<String, @Nullable Object> values) {

  @Nullable Object get(String column) {
    if (!values.containsKey(column)) {
      throw new IllegalStateException("no column " + column + " in " + values.keySet());
    }
    return values.get(column);
  }

  @Nullable Long longOrNull(String column) {
    Object v = get(column);
    return v == null ? null : ((Number) v).longValue();
  }

  @Nullable Double doubleOrNull(String column) {
    Object v = get(column);
    if (v == null) {
      return null;
    }
    return v instanceof Number n ? n.doubleValue() : Double.valueOf(v.toString());
  }

  long longValue(String column) {
    Long v = longOrNull(column);
    return v == null ? 0L : v;
  }

  int intValue(String column) {
    return (int) longValue(column);
  }

  @Nullable String stringOrNull(String column) {
    Object v = get(column);
    return v == null ? null : v.toString();
  }

  String string(String column) {
    String v = stringOrNull(column);
    if (v == null) {
      throw new IllegalStateException("column " + column + " is null");
    }
    return v;
  }
}
