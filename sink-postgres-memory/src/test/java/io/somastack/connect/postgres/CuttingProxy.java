package io.somastack.connect.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Forwards connections to PostgreSQL, and breaks them on request: once armed, it lets the next
 * COMMIT through, swallows the server's answer to it and cuts the client off, so the commit happens
 * and the client never hears of it; while down, it cuts every connection and closes each new one at
 * once, as a database that went away.
 */
final class CuttingProxy implements AutoCloseable {
  private static final byte[] COMMIT = "\0COMMIT\0".getBytes(StandardCharsets.US_ASCII);

  private final ServerSocket listener;
  private final String host;
  private final int port;
  private final AtomicBoolean armed = new AtomicBoolean();
  private volatile boolean down;

  /** Sockets of the connections forwarded now, both sides: cut when the proxy goes down. */
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  CuttingProxy(String host, int port) throws IOException {
    this.host = host;
    this.port = port;
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accepter = new Thread(this::accept, "cutting-proxy");
    accepter.setDaemon(true);
    accepter.start();
  }

  /** A proxy in front of the server of this JDBC URL (as SERVER.createDatabase returns it). */
  static CuttingProxy before(String jdbcUrl) throws IOException {
    java.net.URI direct = java.net.URI.create(jdbcUrl.substring("jdbc:".length()));
    return new CuttingProxy(direct.getHost(), direct.getPort());
  }

  int port() {
    return listener.getLocalPort();
  }

  /** The JDBC URL of a database through this proxy. */
  String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
  }

  void cutAfterNextCommit() {
    armed.set(true);
  }

  /** The database goes away: connections are cut, and new ones closed before any answer. */
  void goDown() {
    down = true;
    open.forEach(CuttingProxy::closeQuietly);
  }

  void comeBack() {
    down = false;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        if (down) {
          closeQuietly(client);
          continue;
        }
        Socket server = new Socket(host, port);
        open.add(client);
        open.add(server);
        AtomicBoolean cutting = new AtomicBoolean();
        pump(client, server, cutting, true);
        pump(server, client, cutting, false);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pump(Socket from, Socket to, AtomicBoolean cutting, boolean toServer) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[65536];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                  if (!toServer && cutting.get()) {
                    // the answer to the COMMIT: dropped, and the client cut off
                    from.close();
                    to.close();
                    return;
                  }
                  if (toServer && contains(buffer, n, COMMIT) && armed.compareAndSet(true, false)) {
                    cutting.set(true);
                  }
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // one side went away: the other follows
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
              }
            });
    thread.setDaemon(true);
    thread.start();
  }

  private static boolean contains(byte[] buffer, int length, byte[] wanted) {
    outer:
    for (int i = 0; i + wanted.length <= length; i++) {
      for (int j = 0; j < wanted.length; j++) {
        if (buffer[i + j] != wanted[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
