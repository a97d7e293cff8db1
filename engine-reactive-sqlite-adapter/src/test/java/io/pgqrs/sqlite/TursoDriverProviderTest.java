package io.pgqrs.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import org.junit.jupiter.api.Test;

/** Turso DSNs: the URL they name, the token they carry, and the ones refused. */
class TursoDriverProviderTest {

  private static TursoDriverProvider.Endpoint parse(String dsn) {
    PgqrsConfig config = PgqrsConfig.builder(dsn).build();
    assertThat(config.backend()).isEqualTo("turso");
    return TursoDriverProvider.parse(config);
  }

  private static void refused(String dsn, String why) {
    assertThatThrownBy(() -> parse(dsn))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.field()).isEqualTo("dsn"))
        .hasMessageContaining(why);
  }

  @Test
  void urlForms() {
    assertThat(parse("turso://db.example:8080").url()).isEqualTo("https://db.example:8080");
    assertThat(parse("turso://127.0.0.1:8080?tls=false").url()).isEqualTo("http://127.0.0.1:8080");
    assertThat(parse("libsql://my-db-org.turso.io").url()).isEqualTo("https://my-db-org.turso.io");
    assertThat(parse("libsql://[::1]:8080?tls=0").url()).isEqualTo("http://[::1]:8080");
    assertThat(parse("turso:http://127.0.0.1:8080/").url()).isEqualTo("http://127.0.0.1:8080");
    assertThat(parse("turso:https://proxy.example/db/one/").url()).isEqualTo("https://proxy.example/db/one");
    assertThat(parse("libsql:http://sqld_container:8080").url()).isEqualTo("http://sqld_container:8080");
    assertThat(parse("TURSO://db.example").url()).isEqualTo("https://db.example");
    assertThat(parse("http://127.0.0.1:8080").url()).isEqualTo("http://127.0.0.1:8080");
    assertThat(parse("https://my-db-org.turso.io/?auth_token=t").url()).isEqualTo("https://my-db-org.turso.io");
  }

  @Test
  void theTokenIsTakenFromEitherSpellingAndNeverShown() {
    TursoDriverProvider.Endpoint a = parse("libsql://db.turso.io?auth_token=eyJ.secret");
    TursoDriverProvider.Endpoint b = parse("libsql://db.turso.io?authToken=eyJ.secret");
    assertThat(a.authToken()).isEqualTo("eyJ.secret");
    assertThat(b.authToken()).isEqualTo("eyJ.secret");
    assertThat(parse("libsql://db.turso.io").authToken()).isNull();
    assertThat(a.toString()).doesNotContain("secret");
    assertThat(a.description()).isEqualTo("Turso database at https://db.turso.io");
    // The options of PgqrsConfig are not Turso's to refuse.
    assertThat(parse("turso://db.example?schema=ignored&pool_max_size=3").url()).isEqualTo("https://db.example");
  }

  @Test
  void badDsnsAreRefused() {
    refused("turso://db.example?sslmode=require", "unknown dsn parameter 'sslmode'");
    refused("turso://db.example?auth_token=a&authToken=b", "twice");
    refused("turso://db.example?tls=maybe", "tls must be true or false");
    refused("turso:http://db.example?tls=false", "tls does not apply");
    refused("turso:db.example", "malformed Turso dsn");
    refused("turso:data/jobs.db", "sqlite:path");
    refused("libsql://db.example:99999", "port");
    refused("libsql://", "malformed dsn");
    refused("turso://db.example#x", "fragment");
    refused("turso://db.example?auth_token=", "auth_token");
  }

  @Test
  void credentialsBeforeTheHostAreRefusedWithoutShowingThem() {
    assertThatThrownBy(() -> parse("libsql://user:hunter2@db.example"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("auth_token")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @Test
  void servesTheTursoBackendOnly() {
    TursoDriverProvider provider = new TursoDriverProvider();
    assertThat(provider.supports("turso")).isTrue();
    assertThat(provider.supports("sqlite")).isFalse();
    assertThat(provider.supports("postgres")).isFalse();
  }
}
