package io.somastack.connect.postgres;

import java.io.IOException;
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
final class CuttingProxy extends LoopbackProxy {
  private static final byte[] COMMIT = "\0COMMIT\0".getBytes(StandardCharsets.US_ASCII);

  private final AtomicBoolean armed = new AtomicBoolean();
  private volatile boolean down;
  private volatile Runnable whenRefused = () -> {};

  /** Sockets of the connections forwarded now, both sides: cut when the proxy goes down. */
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  private CuttingProxy(String jdbcUrl) throws IOException {
    super(jdbcUrl, "cutting-proxy");
  }

  /** A proxy in front of the server of this JDBC URL (as SERVER.createDatabase returns it). */
  static CuttingProxy before(String jdbcUrl) throws IOException {
    return new CuttingProxy(jdbcUrl);
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
    open.forEach(LoopbackProxy::closeQuietly);
  }

  /** Runs {@code action} on each connection closed for being down, before it is closed. */
  void whenRefused(Runnable action) {
    whenRefused = action;
  }

  void comeBack() {
    down = false;
  }

  @Override
  Link connected(Socket client, Socket server) {
    if (down) {
      whenRefused.run();
      return null;
    }
    open.add(client);
    open.add(server);
    AtomicBoolean cutting = new AtomicBoolean();
    return (buffer, length, toServer) -> {
      if (!toServer && cutting.get()) {
        return false; // the answer to the COMMIT: dropped, and the client cut off
      }
      if (toServer && contains(buffer, length, COMMIT) && armed.compareAndSet(true, false)) {
        cutting.set(true);
      }
      return true;
    };
  }

  @Override
  void disconnected(Socket socket) {
    open.remove(socket);
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
}
