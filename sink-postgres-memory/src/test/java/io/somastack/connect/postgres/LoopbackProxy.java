package io.somastack.connect.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;

/**
 * Forwards connections made to a loopback port to the PostgreSQL server of a JDBC URL, one thread
 * per direction, and shows each chunk of bytes to the subclass before forwarding it: the plumbing
 * of the tests' proxies that break or measure what crosses the wire.
 */
abstract class LoopbackProxy implements AutoCloseable {

  /** What a proxy makes of one connection's bytes. */
  interface Link {
    /**
     * Sees a chunk before it is forwarded; false cuts the connection instead (both sides), the
     * chunk unsent.
     */
    boolean forward(byte[] buffer, int length, boolean toServer);
  }

  private final ServerSocket listener;
  private final String host;
  private final int port;

  /** A proxy in front of the server of this JDBC URL (as SERVER.createDatabase returns it). */
  LoopbackProxy(String jdbcUrl, String name) throws IOException {
    URI direct = URI.create(jdbcUrl.substring("jdbc:".length()));
    this.host = direct.getHost();
    this.port = direct.getPort();
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accepter = new Thread(this::accept, name);
    accepter.setDaemon(true);
    accepter.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** A new connection, the server's side open already: its link, or null to close it at once. */
  abstract Link connected(Socket client, Socket server);

  /** A side of a connection closed (each side is closed once per direction). */
  void disconnected(Socket socket) {}

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(host, port);
        Link link = connected(client, server);
        if (link == null) {
          closeQuietly(client);
          closeQuietly(server);
          continue;
        }
        pump(client, server, link, true);
        pump(server, client, link, false);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pump(Socket from, Socket to, Link link, boolean toServer) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[65536];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                  if (!link.forward(buffer, n, toServer)) {
                    return;
                  }
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // one side went away: the other follows
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                disconnected(from);
                disconnected(to);
              }
            });
    thread.setDaemon(true);
    thread.start();
  }

  static void closeQuietly(Socket socket) {
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
