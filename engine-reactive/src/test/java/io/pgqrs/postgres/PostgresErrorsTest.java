package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.ConfigurationException;
import io.pgqrs.StoreOperationException;
import io.pgqrs.StoreUnavailableException;
import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * How driver errors are classified: the symptoms of a transaction-mode pooler the DSN does not
 * declare are permanent configuration errors with the fix in the message, timeouts are transient.
 * The errors are built as r2dbc-postgresql reports them (SQLSTATE and server message).
 */
class PostgresErrorsTest {

  @ParameterizedTest
  @ValueSource(strings = {"42P05", "26000", "25P02", "08P01"})
  void poolerSymptomsAreConfigurationErrorsWithAHint(String state) {
    Throwable translated = PostgresErrors.translate("archive", "s",
        new R2dbcNonTransientResourceException("server said so", state));
    assertThat(translated).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("archive")
        .hasMessageContaining(state)
        .hasMessageContaining("add pooler=transaction to the DSN");
    assertThat(((ConfigurationException) translated).isTransient()).isFalse();
    assertThat(((ConfigurationException) translated).field()).isEqualTo("pooler");
  }

  @Test
  void aRefusedStartupParameterInsideAConnectErrorNamesThePgbouncerSetting() {
    Throwable refusal = new R2dbcNonTransientResourceException("unsupported startup parameter: extra_float_digits",
        "08P01");
    Throwable translated = PostgresErrors.translate("connect", "s",
        new IllegalStateException("Cannot connect to 127.0.0.1:6432", refusal));
    assertThat(translated).isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("ignore_startup_parameters = extra_float_digits");
  }

  @ParameterizedTest
  @ValueSource(strings = {"57014", "55P03"})
  void timeoutsAreTransient(String state) {
    assertThat(PostgresErrors.translate("enqueue", "s", new R2dbcNonTransientResourceException("timeout", state)))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void aPgbouncerCapacityRefusalStaysTransient() {
    assertThat(PostgresErrors.translate("claim", "s",
            new R2dbcTransientResourceException("no more connections allowed (max_client_conn)", "08P01")))
        .isInstanceOf(StoreUnavailableException.class);
  }

  @Test
  void otherErrorsKeepTheirClass() {
    assertThat(PostgresErrors.translate("enqueue", "s", new R2dbcBadGrammarException("bad", "42601")))
        .isInstanceOf(StoreOperationException.class);
  }
}
