package io.pgqrs.exampleapp;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The checkout service. {@code pgqrs.dsn} chooses the store (a SQLite file by default, see
 * {@code application.properties}); {@code server.port} the HTTP port (8080).
 */
@SpringBootApplication
public class ExampleApplication {

  /**
   * Starts the service; it serves until the process is stopped, then shuts down gracefully
   * (consumers and workflow workers drain before the store closes).
   *
   * @param args Spring Boot arguments, such as {@code --pgqrs.dsn=postgresql://...}
   */
  public static void main(String[] args) {
    SpringApplication.run(ExampleApplication.class, args);
  }
}
