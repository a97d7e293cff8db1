package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.internal.Dsns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pure tests of {@link Dsns#mask(String)}. */
class DsnsMaskTest {

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "postgresql://u:secret@h/db                           | postgresql://u:****@h/db",
      "postgres://u:secret@h:5432/db                        | postgres://u:****@h:5432/db",
      "postgresql://u:p@ss:w@rd@h/db                        | postgresql://u:****@h/db",
      "postgresql://:secret@h/db                            | postgresql://:****@h/db",
      "postgresql://u:secret@h/db?sslmode=require           | postgresql://u:****@h/db?sslmode=require",
      "postgresql://h/db?password=secret&sslmode=require    | postgresql://h/db?password=****&sslmode=require",
      "postgresql://h/db?sslmode=require&password=secret    | postgresql://h/db?sslmode=require&password=****",
      "postgresql://h/db?PASSWORD=secret                    | postgresql://h/db?PASSWORD=****",
      "postgresql://u:secret@h/db?password=other            | postgresql://u:****@h/db?password=****",
      "libsql://db.turso.io?authToken=abc.def.ghi           | libsql://db.turso.io?authToken=****",
      "turso://db.turso.io?auth_token=abc&tls=1             | turso://db.turso.io?auth_token=****&tls=1",
      "turso://db.turso.io?AUTHTOKEN=abc                    | turso://db.turso.io?AUTHTOKEN=****"
  })
  void secretsAreReplacedByStars(String dsn, String masked) {
    assertThat(Dsns.mask(dsn)).isEqualTo(masked);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "postgresql://h/db",
      "postgresql://h:5432/db",
      "postgresql://u@h/db",
      "postgresql://u@h:5432/db",
      "postgresql://h/db?sslmode=require&application_name=app",
      "sqlite:path/to/file.db",
      "sqlite::memory:",
      "turso://host:8080",
      "mysql://x/y",
      ""
  })
  void dsnsWithoutSecretsAreUnchanged(String dsn) {
    assertThat(Dsns.mask(dsn)).isEqualTo(dsn);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "postgresql://u:secret@h/db?application_name=a@b",
      "postgresql://u:secret@h/db?password=secret",
      "postgresql://u:secret@h/a/b",
      "postgresql://u:secret@ho st/db",
      "postgresql://u:secret@",
      "mysql://u:secret@h/db",
      "postgresql://h/db?sslpassword=secret",
      "libsql://h?authToken=secret&password=secret"
  })
  void maskedDsnNeverContainsTheSecret(String dsn) {
    assertThat(Dsns.mask(dsn)).doesNotContain("secret");
  }

  @Test
  void atSignInTheQueryDoesNotMaskTheHostPortOrDatabase() {
    assertThat(Dsns.mask("postgresql://h:5432/db?application_name=x@y"))
        .isEqualTo("postgresql://h:5432/db?application_name=x@y");
    assertThat(Dsns.mask("postgresql://u:secret@h/db?application_name=x@y"))
        .isEqualTo("postgresql://u:****@h/db?application_name=x@y");
  }
}
