package io.pgqrs.admin;

import java.util.List;

/**
 * What {@code verify()} found in the schema.
 *
 * @param schema the schema that was checked
 * @param installedVersion the highest migration applied, 0 when nothing is installed
 * @param expectedVersion the highest migration this library ships
 * @param missing objects (tables, indexes) that should exist and do not
 */
public record SchemaReport(String schema, int installedVersion, int expectedVersion, List<String> missing) {

  /** Makes the list unmodifiable. */
  public SchemaReport {
    missing = List.copyOf(missing);
  }

  /**
   * Whether the schema is complete and up to date.
   *
   * @return true if every object exists and every migration is applied
   */
  public boolean isValid() {
    return missing.isEmpty() && installedVersion == expectedVersion;
  }
}
