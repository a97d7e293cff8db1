package io.pgqrs.unit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgqrs.ConfigurationException;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.internal.Dsns;
import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DsnHostPortTest {

  @Test
  void hostNamesWithUnderscoresAreAccepted() {
    assertThat(PgqrsConfig.builder("postgresql://app@pg_host:5433/db").build().backend()).isEqualTo("postgres");
    assertThat(Dsns.hostPort(URI.create("postgresql://app@pg_host:5433/db")))
        .isEqualTo(new Dsns.HostPort("pg_host", 5433));
  }

  @Test
  void ipv6AndMissingPortAreRead() {
    assertThat(Dsns.hostPort(URI.create("postgresql://u@[::1]:6000/db"))).isEqualTo(new Dsns.HostPort("::1", 6000));
    assertThat(Dsns.hostPort(URI.create("postgresql://u@db/x"))).isEqualTo(new Dsns.HostPort("db", -1));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"postgresql://h:0/db", "postgresql://h:99999/db", "postgresql://h:-1/db"})
  void portOutsideTheValidRangeIsRejectedNamingDsn(String dsn) {
    assertThatThrownBy(() -> PgqrsConfig.builder(dsn))
        .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.field()).isEqualTo("dsn"));
  }
}
