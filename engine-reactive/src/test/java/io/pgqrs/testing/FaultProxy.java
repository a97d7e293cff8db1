package io.pgqrs.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on a free loopback port in front of a server (PostgreSQL in the fault-injection
 * tests), whose faults the test switches on and off while traffic flows. Toxiproxy for a machine
 * without Docker: plain blocking sockets, one accept thread and two pump threads per connection,
 * all daemon threads of the proxy's own, so nothing here runs on (or blocks) a Reactor thread.
 *
 * <p>The faults, each switchable at any time from any thread:
 *
 * <ul>
 *   <li>{@link #latency(Duration)}: every chunk of bytes, in either direction, is forwarded that
 *       much later.
 *   <li>{@link #blackHole()} until {@link #heal()}: nothing is forwarded in either direction, on
 *       open connections and on new ones (which are accepted, then hang); nothing is closed, so the
 *       client sees a hang, not an error. Bytes read meanwhile are held and forwarded once healed,
 *       as TCP's retransmissions deliver them once a short partition ends.
 *   <li>{@link #resetAll()}: every open connection is aborted with a TCP RST on both sides (linger
 *       zero, then close), as when a server or a middlebox drops its connections.
 *   <li>{@link #refuseNewConnections(boolean)}: connections opened meanwhile are reset as soon as
 *       they are accepted, as while a database restarts.
 * </ul>
 *
 * <p>{@link #openConnections()} counts connections the proxy still holds (either side open), so a
 * test can tell that a client closed everything it opened.
 */
public final class FaultProxy implements AutoCloseable {

  private static final int CHUNK = 16 * 1024;
  private static final AtomicInteger PROXIES = new AtomicInteger();

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Thread acceptor;
  private final String name;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong resets = new AtomicLong();
  private final Object gate = new Object();
  private volatile long latencyNanos;
  private volatile boolean blackHoled;
  private volatile boolean refusing;
  private volatile boolean closed;

  /**
   * Starts a proxy to {@code targetHost:targetPort} on a free port of 127.0.0.1, passing traffic
   * through until told otherwise.
   *
   * @param targetHost the server's host
   * @param targetPort the server's port
   * @throws UncheckedIOException if no port can be bound
   */
  public FaultProxy(String targetHost, int targetPort) {
    this.target = new InetSocketAddress(targetHost, targetPort);
    this.name = "fault-proxy-" + PROXIES.incrementAndGet();
    try {
      this.server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the fault proxy", e);
    }
    this.acceptor = new Thread(this::acceptLoop, name + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The proxy's host: the loopback address. */
  public String host() {
    return server.getInetAddress().getHostAddress();
  }

  /** The proxy's port. */
  public int port() {
    return server.getLocalPort();
  }

  /** Clears every fault: no latency, no black hole, new connections accepted. */
  public void passThrough() {
    latency(Duration.ZERO);
    refuseNewConnections(false);
    heal();
  }

  /**
   * Delays every chunk forwarded from now on, in both directions.
   *
   * @param latency the delay; zero for none
   */
  public void latency(Duration latency) {
    latencyNanos = latency.toNanos();
  }

  /** Stops forwarding anything, on open and new connections, without closing any, until {@link #heal()}. */
  public void blackHole() {
    blackHoled = true;
  }

  /** Ends a black hole: what was held is forwarded, and traffic flows again. */
  public void heal() {
    synchronized (gate) {
      blackHoled = false;
      gate.notifyAll();
    }
  }

  /**
   * Aborts every open connection with a TCP RST on both sides.
   *
   * @return how many connections were reset
   */
  public int resetAll() {
    List<Link> open = List.copyOf(links);
    for (Link link : open) {
      link.reset();
    }
    resets.addAndGet(open.size());
    return open.size();
  }

  /**
   * Resets connections as soon as they are accepted while {@code refuse} is true.
   *
   * @param refuse true to refuse new connections, false to accept them again
   */
  public void refuseNewConnections(boolean refuse) {
    refusing = refuse;
  }

  /** Connections the proxy holds now: accepted and not yet closed on both sides. */
  public int openConnections() {
    return links.size();
  }

  /** Connections accepted since the proxy started, refused ones included. */
  public long acceptedConnections() {
    return accepted.get();
  }

  /** Connections reset by {@link #resetAll()} since the proxy started. */
  public long resetConnections() {
    return resets.get();
  }

  /** Stops accepting and resets every connection still open. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    heal();
    for (Link link : List.copyOf(links)) {
      link.reset();
    }
  }

  @Override
  public String toString() {
    return name + "[" + host() + ":" + port() + " -> " + target + ", open=" + links.size() + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      accepted.incrementAndGet();
      if (refusing) {
        abort(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        upstream.setTcpNoDelay(true);
        client.setTcpNoDelay(true);
        upstream.connect(target, 5_000);
      } catch (IOException e) {
        abort(client);
        abort(upstream);
        continue;
      }
      Link link = new Link(client, upstream, accepted.get());
      links.add(link);
      link.start();
    }
  }

  /** Closes a socket with an RST instead of a FIN. */
  private static void abort(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
    } catch (SocketException e) {
      // already closed
    }
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** Waits while black-holed; then waits out the latency. On the pump's own thread. */
  private void beforeForwarding() throws InterruptedException {
    synchronized (gate) {
      while (blackHoled && !closed) {
        gate.wait();
      }
    }
    long delay = latencyNanos;
    if (delay > 0) {
      TimeUnit.NANOSECONDS.sleep(delay);
    }
  }

  /** One proxied connection: a client socket, an upstream socket, a pump each way. */
  private final class Link {
    private final Socket client;
    private final Socket upstream;
    private final long number;
    private final AtomicInteger pumpsLeft = new AtomicInteger(2);
    private final AtomicBoolean ended = new AtomicBoolean();

    Link(Socket client, Socket upstream, long number) {
      this.client = client;
      this.upstream = upstream;
      this.number = number;
    }

    void start() {
      startPump(client, upstream, "up");
      startPump(upstream, client, "down");
    }

    private void startPump(Socket from, Socket to, String direction) {
      Thread pump = new Thread(() -> pump(from, to), name + "-" + number + "-" + direction);
      pump.setDaemon(true);
      pump.start();
    }

    private void pump(Socket from, Socket to) {
      byte[] buffer = new byte[CHUNK];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buffer)) >= 0) {
          beforeForwarding();
          out.write(buffer, 0, n);
          out.flush();
        }
        // A clean end of one direction: pass the FIN on, and let the other direction finish.
        to.shutdownOutput();
        if (pumpsLeft.decrementAndGet() == 0) {
          end(false);
        }
      } catch (IOException e) {
        end(true);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        end(true);
      }
    }

    void reset() {
      end(true);
    }

    private void end(boolean abort) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      if (abort) {
        abort(client);
        abort(upstream);
      } else {
        closeQuietly(client);
        closeQuietly(upstream);
      }
      links.remove(this);
    }

    private void closeQuietly(Socket socket) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
