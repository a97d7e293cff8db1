package io.pgqrs.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Command-line options: {@code --name value} pairs and {@code --flag} switches after the scenario
 * name. Sweep values are comma lists ({@code --consumers 1,2,4}). Unknown options are an error, so
 * a typo never silently runs the defaults.
 */
final class Options {

  /** Options that take a value. */
  private static final Set<String> VALUED = Set.of(
      "backend", "url", "consumers", "batch", "messages", "rate", "seconds", "producers", "workers",
      "runs", "out", "peers", "api", "subjects", "peer-messages", "warmup", "repeat", "jmh-profile",
      "pgqrs-mode", "stats-settle", "phase-seconds", "warmup-seconds", "sample-seconds", "readers", "job-ms",
      "overload-factor", "phases");
  /** Options that are switches. */
  private static final Set<String> FLAGS = Set.of("no-ceiling", "no-peers", "keep-schema", "metrics", "tracing", "help");

  private final String scenario;
  private final Map<String, String> values;
  private final Set<String> flags;

  private Options(String scenario, Map<String, String> values, Set<String> flags) {
    this.scenario = scenario;
    this.values = values;
    this.flags = flags;
  }

  /**
   * Parses {@code SCENARIO [--name value | --flag]...}.
   *
   * @throws IllegalArgumentException naming the bad argument
   */
  static Options parse(String[] args) {
    if (args.length == 0) {
      throw new IllegalArgumentException("no scenario given");
    }
    String scenario = args[0].toLowerCase(Locale.ROOT);
    Map<String, String> values = new HashMap<>();
    Set<String> flags = new LinkedHashSet<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "' (options start with --)");
      }
      String name = a.substring(2);
      String inline = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        inline = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (FLAGS.contains(name)) {
        flags.add(name);
      } else if (VALUED.contains(name)) {
        String v = inline;
        if (v == null) {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException("--" + name + " needs a value");
          }
          v = args[++i];
        }
        values.put(name, v);
      } else {
        throw new IllegalArgumentException("unknown option --" + name);
      }
    }
    return new Options(scenario, values, flags);
  }

  String scenario() {
    return scenario;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  @Nullable String value(String name) {
    return values.get(name);
  }

  String string(String name, String fallback) {
    String v = values.get(name);
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  int integer(String name, int fallback) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    int n = parseInt(name, v.trim());
    if (n < 1) {
      throw new IllegalArgumentException("--" + name + " must be at least 1, got " + n);
    }
    return n;
  }

  /** A non-negative integer option (0 allowed, for example {@code --warmup 0}). */
  int count(String name, int fallback) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    int n = parseInt(name, v.trim());
    if (n < 0) {
      throw new IllegalArgumentException("--" + name + " must not be negative, got " + n);
    }
    return n;
  }

  /** A positive decimal option ({@code --overload-factor 1.5}). */
  double decimal(String name, double fallback) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    double d;
    try {
      d = Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": '" + v + "' is not a number");
    }
    if (!(d > 0) || Double.isInfinite(d)) {
      throw new IllegalArgumentException("--" + name + " must be a positive number, got " + v);
    }
    return d;
  }

  /** A comma list of positive integers, in the order given, duplicates removed. */
  List<Integer> integers(String name, List<Integer> fallback) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    Set<Integer> out = new LinkedHashSet<>();
    for (String part : v.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int n = parseInt(name, part.trim());
      if (n < 1) {
        throw new IllegalArgumentException("--" + name + " values must be at least 1, got " + n);
      }
      out.add(n);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("--" + name + " needs at least one value");
    }
    return new ArrayList<>(out);
  }

  /** A comma list of names, lower-cased; {@code none} gives the empty list. */
  List<String> names(String name, List<String> fallback) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    List<String> out = new ArrayList<>();
    for (String part : v.split(",")) {
      String p = part.trim().toLowerCase(Locale.ROOT);
      if (!p.isEmpty() && !p.equals("none")) {
        out.add(p);
      }
    }
    return out;
  }

  Path path(String name, Path fallback) {
    String v = values.get(name);
    return v == null || v.isBlank() ? fallback : Path.of(v.trim());
  }

  private static int parseInt(String name, String v) {
    try {
      return Integer.parseInt(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": '" + v + "' is not an integer");
    }
  }
}
