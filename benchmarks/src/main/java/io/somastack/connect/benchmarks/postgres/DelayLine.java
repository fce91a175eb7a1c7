package io.somastack.connect.benchmarks.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy in front of PostgreSQL that delivers every chunk of the server's replies a fixed time
 * after it arrived: a network round trip of that length between the connectors and the database (as
 * when PostgreSQL runs on another host, or waits for its disk or a replica at commit), on a machine
 * where both share loopback. It delays without throttling: chunks are queued with their due time
 * and sent when it comes, so the bandwidth stays the link's.
 */
final class DelayLine implements AutoCloseable {

  private final ServerSocket listener;
  private final String host;
  private final int port;
  private final long delayNanos;

  DelayLine(String host, int port, double delayMs) throws IOException {
    this.host = host;
    this.port = port;
    this.delayNanos = (long) (delayMs * 1_000_000);
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    daemon("delay-line-accept", this::accept);
  }

  int port() {
    return listener.getLocalPort();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(host, port);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        daemon("delay-line-up", () -> pump(client, server, 0));
        daemon("delay-line-down", () -> pump(server, client, delayNanos));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Copies from one socket to the other, each chunk due {@code delay} after it was read. */
  private static void pump(Socket from, Socket to, long delay) {
    BlockingQueue<Object[]> due = new LinkedBlockingQueue<>();
    if (delay > 0) {
      daemon("delay-line-send", () -> send(due, to));
    }
    byte[] buffer = new byte[64 << 10];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to.getOutputStream();
      for (int n; (n = in.read(buffer)) >= 0; ) {
        if (delay == 0) {
          out.write(buffer, 0, n);
          out.flush();
        } else {
          due.put(new Object[] {System.nanoTime() + delay, Arrays.copyOf(buffer, n)});
        }
      }
    } catch (IOException | InterruptedException e) {
      // one side closed: close both below
    } finally {
      due.add(new Object[] {0L, null});
      if (delay == 0) {
        closeQuietly(from, to);
      }
    }
  }

  private static void send(BlockingQueue<Object[]> due, Socket to) {
    try {
      OutputStream out = to.getOutputStream();
      while (true) {
        Object[] chunk = due.take();
        if (chunk[1] == null) {
          break;
        }
        for (long wait; (wait = (long) chunk[0] - System.nanoTime()) > 0; ) {
          LockSupport.parkNanos(wait);
        }
        out.write((byte[]) chunk[1]);
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // the other side closed
    } finally {
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket... sockets) {
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }

  private static void daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
