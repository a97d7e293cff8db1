package io.pgqrs.bench;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** Progress and log lines, always on stderr: stdout carries only JSON. */
final class Log {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

  private Log() {}

  static void info(String message) {
    System.err.println("[bench " + LocalTime.now().format(TIME) + "] " + message);
    System.err.flush();
  }
}
