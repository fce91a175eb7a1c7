package io.somastack.connect.postgres.write;

import java.util.Arrays;

/**
 * The bytes of one COPY, in text or binary format, kept from batch to batch: a fresh multi-megabyte
 * buffer per batch was most of the sink's garbage.
 */
abstract class CopyBuffer {

  private static final int INITIAL_CAPACITY = 64 << 10;

  /** Above this a buffer is not kept for the next batch: one huge batch should not pin it. */
  private static final int KEPT_CAPACITY = 16 << 20;

  byte[] bytes = new byte[INITIAL_CAPACITY];
  int length;

  byte[] bytes() {
    return bytes;
  }

  int length() {
    return length;
  }

  /** Forgets the rows once they are sent, and drops a buffer grown past the kept capacity. */
  void trim() {
    if (bytes.length > KEPT_CAPACITY) {
      bytes = new byte[INITIAL_CAPACITY];
    }
    length = 0;
  }

  final void put(byte[] run) {
    ensure(run.length);
    System.arraycopy(run, 0, bytes, length, run.length);
    length += run.length;
  }

  final void put(byte b) {
    ensure(1);
    bytes[length++] = b;
  }

  final void ensure(int more) {
    if (length + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
    }
  }
}
