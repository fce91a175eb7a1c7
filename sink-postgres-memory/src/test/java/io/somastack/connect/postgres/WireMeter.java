package io.somastack.connect.postgres;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Forwards connections to PostgreSQL and measures what crosses the wire, message by message of the
 * protocol: the bytes the client sends up to each Sync (a statement, or a batch of them, sent as
 * one), Query, CopyDone or CopyFail, and the bytes the server answers up to each ReadyForQuery.
 * Each such statement is one round trip, and its size is what the client had to build and the
 * server to read: a statement over a whole put is seen here whatever the driver does with it.
 *
 * <p>A round trip of nothing but Close messages is not a statement: pgjdbc closes a server-side
 * statement it dropped (a one-off statement, server-prepared under prepareThreshold=1) only once
 * the garbage collector has found its query unreachable, sending the Close messages in front of its
 * next statement; when that opens a transaction, they end with a Sync of their own, before the
 * BEGIN pgjdbc sends as a simple query. When that happens depends on the JVM's heap (tests run
 * before, in the same JVM), not on the sink: such round trips are counted apart, in {@link
 * #deallocations()}.
 */
final class WireMeter extends LoopbackProxy {

  private final List<Long> statements = Collections.synchronizedList(new ArrayList<>());
  private final List<Long> replies = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger deallocations = new AtomicInteger();

  private WireMeter(String jdbcUrl) throws IOException {
    super(jdbcUrl, "wire-meter");
  }

  /** A meter in front of the server of this JDBC URL (as SERVER.createDatabase returns it). */
  static WireMeter before(String jdbcUrl) throws IOException {
    return new WireMeter(jdbcUrl);
  }

  /** The JDBC URL of a database through this meter, without TLS (whose bytes it cannot read). */
  String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?sslmode=disable";
  }

  /** Forgets what was measured so far. */
  void reset() {
    statements.clear();
    replies.clear();
    deallocations.set(0);
  }

  /** The statements sent since the last reset (each one round trip): their sizes in bytes. */
  List<Long> statements() {
    synchronized (statements) {
      return List.copyOf(statements);
    }
  }

  /**
   * The round trips since the last reset that only closed statements pgjdbc had dropped (not in
   * {@link #statements()}).
   */
  int deallocations() {
    return deallocations.get();
  }

  /** The answers read since the last reset: their sizes in bytes. */
  List<Long> replies() {
    synchronized (replies) {
      return List.copyOf(replies);
    }
  }

  @Override
  Link connected(Socket client, Socket server) {
    AtomicInteger singleByteReplies = new AtomicInteger();
    Parser fromClient = new Parser(true, singleByteReplies);
    Parser fromServer = new Parser(false, singleByteReplies);
    return (buffer, length, toServer) -> {
      // before forwarding: an answer cannot come first
      (toServer ? fromClient : fromServer).feed(buffer, length);
      return true;
    };
  }

  /**
   * Cuts one direction's bytes into messages: a type byte and a length (which counts itself), but
   * for the client's first messages (SSL or GSS encryption request, startup), which have no type
   * byte, and the server's one-byte answer to an encryption request.
   */
  private final class Parser {
    private final boolean client;
    private final AtomicInteger singleByteReplies;
    private boolean typed;
    private final byte[] header = new byte[5];
    private int headerFill;
    private long remaining;
    private byte type;
    private long size;

    /** Whether the client's round trip being read holds Close messages, and anything else. */
    private boolean closes;

    private boolean others;

    Parser(boolean client, AtomicInteger singleByteReplies) {
      this.client = client;
      this.singleByteReplies = singleByteReplies;
      this.typed = !client;
    }

    void feed(byte[] buffer, int length) {
      int at = 0;
      while (at < length) {
        if (remaining > 0) {
          int take = (int) Math.min(remaining, length - at);
          at += take;
          size += take;
          remaining -= take;
          if (remaining == 0) {
            ended();
          }
          continue;
        }
        if (!client && headerFill == 0 && singleByteReplies.get() > 0) {
          if (buffer[at] != 'N') {
            throw new IllegalStateException("the server offers encryption: cannot measure");
          }
          singleByteReplies.decrementAndGet();
          at++;
          continue;
        }
        int headerSize = typed ? 5 : 4;
        header[headerFill++] = buffer[at++];
        size++;
        if (headerFill == headerSize) {
          int from = headerSize - 4;
          long messageLength =
              ((header[from] & 0xFFL) << 24)
                  | ((header[from + 1] & 0xFFL) << 16)
                  | ((header[from + 2] & 0xFFL) << 8)
                  | (header[from + 3] & 0xFFL);
          headerFill = 0;
          if (!typed) {
            // an encryption request (8 bytes) is answered with one byte; the startup message
            // (longer) is the last message without a type
            if (messageLength == 8) {
              singleByteReplies.incrementAndGet();
            } else {
              typed = true;
            }
            type = 0;
          } else {
            type = header[0];
            if (client && type == 'C') {
              closes = true;
            } else if (client && type != 'S') {
              others = true;
            }
          }
          remaining = messageLength - 4;
          if (remaining == 0) {
            ended();
          }
        }
      }
    }

    private void ended() {
      if (client && (type == 'S' || type == 'Q' || type == 'c' || type == 'f')) {
        if (closes && !others) {
          deallocations.incrementAndGet();
        } else {
          statements.add(size);
        }
        size = 0;
        closes = false;
        others = false;
      } else if (!client && type == 'Z') {
        replies.add(size);
        size = 0;
      } else if (client && type == 0) {
        size = 0; // connection set-up
      }
    }
  }
}
