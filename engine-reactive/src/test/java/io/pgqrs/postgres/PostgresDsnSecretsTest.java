package io.pgqrs.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgqrs.ConfigurationException;
import io.pgqrs.Pgqrs;
import io.pgqrs.PgqrsConfig;
import io.pgqrs.internal.Dsns;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * A property over generated PostgreSQL DSNs with generated passwords: whatever the password holds
 * (raw {@code / ? # @ : %}, percent-encoded or not) and whatever else the DSN gets wrong, no
 * configuration error, {@code toString()}, masked DSN or connect error contains the password,
 * raw or as written. Seeded, so a failure names a case that can be replayed.
 */
class PostgresDsnSecretsTest {

  private static final long SEED = 20240613L;
  private static final int CASES = 4000;
  /** Cases that also try to connect (to a closed port): an error, quickly. */
  private static final int CONNECTING_CASES = 60;

  private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  private static final String PASSWORD_CHARS = LETTERS + "0123456789" + "/?#@:%&=+ !$'()*,;[]~-._";
  private static final String[] HOSTS = {"localhost", "127.0.0.1", "db_host", "[::1]", "db.example.com"};
  private static final String[] PARAMETERS = {
    "schema=jobs", "sslmode=disable", "application_name=app", "application_name=a%40b", "application_name=x@y",
    "pool_max_size=3", "colour=blue", "sslmode=bogus", "pooler=transaction", "lock_timeout=5s", "schema=pg_catalog",
    "wakeups=maybe", "password=other"};

  /** A generated DSN and the secret it carries, as the user meant it and as written. */
  private record Case(String dsn, String password, String written) {}

  @Test
  void noMessageOrRenderingContainsThePassword() {
    Random random = new Random(SEED);
    for (int i = 0; i < CASES; i++) {
      Case c = generate(random);
      for (String text : renderings(c.dsn())) {
        assertThat(text).as("case %d, dsn %s", i, c.dsn()).doesNotContain(c.password()).doesNotContain(c.written());
      }
    }
  }

  @Test
  void connectErrorsNeverContainThePassword() {
    Random random = new Random(SEED + 1);
    int connected = 0;
    while (connected < CONNECTING_CASES) {
      // Nothing listens on port 1: connecting fails at once.
      Case c = generate(random, "127.0.0.1:1");
      PgqrsConfig config;
      try {
        config = PgqrsConfig.builder(c.dsn()).connectTimeout(Duration.ofSeconds(2)).build();
      } catch (ConfigurationException refused) {
        continue;
      }
      connected++;
      StepVerifier.create(Pgqrs.connect(config))
          .expectErrorSatisfies(e -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
              assertThat(String.valueOf(t.getMessage())).as("dsn %s", c.dsn())
                  .doesNotContain(c.password()).doesNotContain(c.written());
            }
          })
          .verify(Duration.ofSeconds(30));
    }
  }

  /** Everything the engine may print about a DSN: errors (with causes), toString, the masked DSN. */
  private static List<String> renderings(String dsn) {
    List<String> texts = new ArrayList<>();
    texts.add(Dsns.mask(dsn));
    try {
      PgqrsConfig config = PgqrsConfig.builder(dsn).build();
      texts.add(config.toString());
      try {
        texts.add(PostgresDriverProvider.connectionConfiguration(config, "").toString());
      } catch (ConfigurationException e) {
        addMessages(texts, e);
      }
    } catch (ConfigurationException e) {
      addMessages(texts, e);
    }
    return texts;
  }

  private static void addMessages(List<String> texts, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      texts.add(String.valueOf(t.getMessage()));
      texts.add(t.toString());
    }
  }

  private static Case generate(Random random) {
    String host = HOSTS[random.nextInt(HOSTS.length)];
    if (random.nextBoolean()) {
      host += ":" + (random.nextBoolean() ? "5432" : "6432");
    }
    return generate(random, host);
  }

  private static Case generate(Random random, String host) {
    StringBuilder password = new StringBuilder();
    // At least eight characters and a letter, so the password cannot be any other part of the DSN.
    password.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
    int length = 8 + random.nextInt(12);
    while (password.length() < length) {
      password.append(PASSWORD_CHARS.charAt(random.nextInt(PASSWORD_CHARS.length())));
    }
    String secret = password.toString();
    String written = switch (random.nextInt(3)) {
      case 0 -> secret; // raw, as users paste it
      case 1 -> encode(secret, false); // percent-encoded properly
      default -> encode(secret, true); // half encoded
    };
    StringBuilder dsn = new StringBuilder(random.nextBoolean() ? "postgresql://" : "postgres://");
    dsn.append(random.nextBoolean() ? "app_user" : "u").append(':').append(written).append('@');
    dsn.append(host);
    dsn.append(random.nextInt(10) == 0 ? "" : "/test");
    int parameters = random.nextInt(4);
    for (int p = 0; p < parameters; p++) {
      dsn.append(p == 0 ? '?' : '&').append(PARAMETERS[random.nextInt(PARAMETERS.length)]);
    }
    return new Case(dsn.toString(), secret, written);
  }

  /** Percent-encodes every character that is not unreserved, or (sloppily) only every other one. */
  private static String encode(String s, boolean sloppy) {
    StringBuilder out = new StringBuilder();
    boolean skip = false;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char ch = (char) (b & 0xff);
      boolean unreserved = Character.isLetterOrDigit(ch) || "-._~".indexOf(ch) >= 0;
      if (unreserved || (sloppy && (skip = !skip))) {
        out.append(ch);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }
}
