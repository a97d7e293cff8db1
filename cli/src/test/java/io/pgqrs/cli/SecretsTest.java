package io.pgqrs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretsTest {

  @Test
  void theGivenDsnAndAnyUrlPasswordOrSecretParameterAreMasked() {
    String dsn = "postgresql://app:p%40ss@db:5432/app?schema=jobs";
    assertThat(Secrets.mask("cannot reach " + dsn + " now", dsn))
        .isEqualTo("cannot reach postgresql://app:****@db:5432/app?schema=jobs now");
    assertThat(Secrets.mask("Unknown option: '--dns=postgresql://u:hunter2@h/db'", null))
        .isEqualTo("Unknown option: '--dns=postgresql://u:****@h/db'");
    assertThat(Secrets.mask("turso://db:8080?auth_token=abc.def and password=x", null))
        .isEqualTo("turso://db:8080?auth_token=**** and password=****");
    assertThat(Secrets.mask("postgresql://postgres@127.0.0.1:5432/test", null))
        .isEqualTo("postgresql://postgres@127.0.0.1:5432/test");
  }
}
