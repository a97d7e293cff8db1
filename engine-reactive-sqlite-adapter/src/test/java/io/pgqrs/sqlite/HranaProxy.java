package io.pgqrs.sqlite;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A pass-through HTTP proxy in front of a Hrana server (a real {@code tursodb}), whose answers an
 * {@link AnswerGate} can hold, so a test can cancel while a statement is certainly in flight.
 */
final class HranaProxy implements AutoCloseable {

  private final String target;
  private final HttpServer server;
  private final ExecutorService threads;
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private volatile AnswerGate gate = new AnswerGate("\u0000never");

  /**
   * Starts the proxy on a free loopback port.
   *
   * @param target the server's base URL, without a trailing slash
   * @throws IOException if no port can be bound
   */
  HranaProxy(String target) throws IOException {
    this.target = target;
    this.server = FakeHranaServer.newHttpServer();
    this.threads = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "hrana-proxy");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(threads);
    server.createContext("/", this::forward);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /**
   * Holds the next request whose body contains {@code marker} until the returned gate is released.
   *
   * @param marker text of the request body, for example a fragment of its SQL
   * @return the gate
   */
  AnswerGate holdAnswerTo(String marker) {
    AnswerGate g = new AnswerGate(marker);
    gate = g;
    return g;
  }

  private void forward(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      gate.pass(new String(body, StandardCharsets.UTF_8));
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(target + exchange.getRequestURI()))
          .method(exchange.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(body))
          .timeout(Duration.ofSeconds(30));
      for (String header : new String[] {"Content-Type", "Authorization"}) {
        String value = exchange.getRequestHeaders().getFirst(header);
        if (value != null) {
          request.header(header, value);
        }
      }
      HttpResponse<byte[]> answer;
      try {
        answer = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        exchange.sendResponseHeaders(502, -1);
        return;
      } catch (IOException e) {
        exchange.sendResponseHeaders(502, -1);
        return;
      }
      answer.headers().firstValue("Content-Type").ifPresent(v -> exchange.getResponseHeaders().set("Content-Type", v));
      byte[] bytes = answer.body();
      exchange.sendResponseHeaders(answer.statusCode(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        exchange.getResponseBody().write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
