package io.somastack.connect.transforms.crypto;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM for one field value, in a self-describing text envelope:
 *
 * <pre>
 * soma-enc:BASE64URL( version | mode | id length | key id | key version | nonce | ciphertext+tag )
 *            1 byte    1 byte  1 byte      1-64 bytes  4 bytes BE   12 bytes  n + 16 bytes
 * </pre>
 *
 * <p>The associated data is the envelope header (version through key version) followed by the field
 * path and the tenant, each length-prefixed: a ciphertext therefore opens only in the field and for
 * the tenant it was made for, under the key and mode its header names.
 *
 * <p><b>Random mode</b> draws a 96-bit nonce from {@link SecureRandom} per value.
 *
 * <p><b>Deterministic mode</b> uses a synthetic nonce, as SIV does (RFC 5297): nonce = the first 12
 * bytes of HMAC-SHA-256(K', associated data || plaintext), with K' derived from the key. Equal
 * plaintexts in the same field, for the same tenant, under the same key give equal ciphertexts, so
 * the field can still be joined on or used as a key; that equality is all it reveals, and only
 * within one field and tenant, because both are in the MAC input. It is not AES-GCM-SIV: decryption
 * does not recompute the nonce, GCM's tag alone authenticates. Use it only for fields that must be
 * compared, and prefer random mode everywhere else.
 *
 * <p><b>Volume limit</b>: both modes encrypt under the same AES key, and two different plaintexts
 * under one 96-bit nonce reveal their XOR and GCM's hash key (so forgeries). Random nonces and
 * synthetic nonces of distinct inputs are both uniformly spread, so they share one birthday bound:
 * a key version may encrypt at most 2<sup>32</sup> values (random-mode values plus distinct
 * deterministic inputs, over every task using it) to keep the chance of any repeat below
 * 2<sup>-32</sup>, the bound NIST SP 800-38D sets. Rotate before that. Both modes also reveal the
 * length of the plaintext.
 */
public final class FieldCipher {

  public static final String PREFIX = "soma-enc:";
  public static final byte FORMAT_VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BYTES = 16;
  private static final int TAG_BITS = TAG_BYTES * 8;
  private static final int NO_TENANT = -1;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  /** How nonces are chosen. */
  public enum Mode {
    RANDOM((byte) 0),
    DETERMINISTIC((byte) 1);

    final byte code;

    Mode(byte code) {
      this.code = code;
    }

    static Mode of(byte code) {
      for (Mode mode : values()) {
        if (mode.code == code) {
          return mode;
        }
      }
      throw new InvalidCiphertextException("ciphertext names an unknown mode " + code);
    }
  }

  private final Keyring keyring;
  private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(FieldCipher::newCipher);
  private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(FieldCipher::newMac);

  public FieldCipher(Keyring keyring) {
    this.keyring = keyring;
  }

  /**
   * Drops the calling thread's keyed Cipher and Mac. Connect runs tasks on pooled threads that
   * later run other tasks: without this, a removed or re-keyed transform's key schedule stays
   * reachable from the thread. Call it on the task thread, as Connect calls a transform's close().
   */
  public void releaseThreadState() {
    ciphers.remove();
    macs.remove();
  }

  /** True when the text looks like an envelope of ours (it may still fail to open). */
  public static boolean isCiphertext(String text) {
    return text.startsWith(PREFIX);
  }

  /** Encrypts with the current version of key {@code keyId}. Tenant may be null (unbound). */
  public String encrypt(
      byte[] plaintext, String keyId, Mode mode, String fieldPath, String tenant) {
    Keyring.Key key = keyring.current(keyId);
    byte[] header = header(key, mode);
    byte[] aad = associatedData(header, fieldPath, tenant);
    byte[] nonce = mode == Mode.RANDOM ? randomNonce() : syntheticNonce(key, aad, plaintext);
    byte[] sealed = seal(key, nonce, aad, plaintext, mode);
    ByteBuffer out = ByteBuffer.allocate(header.length + NONCE_BYTES + sealed.length);
    out.put(header).put(nonce).put(sealed);
    return PREFIX + ENCODER.encodeToString(out.array());
  }

  /** Opens an envelope made for this field path and tenant. */
  public byte[] decrypt(String envelope, String fieldPath, String tenant) {
    if (!isCiphertext(envelope)) {
      throw new InvalidCiphertextException("value is not a " + PREFIX + " ciphertext");
    }
    ByteBuffer in = ByteBuffer.wrap(decode(envelope.substring(PREFIX.length())));
    try {
      byte version = in.get();
      if (version != FORMAT_VERSION) {
        throw new InvalidCiphertextException("unsupported ciphertext format version " + version);
      }
      Mode.of(in.get());
      String keyId = keyId(in);
      int keyVersion = in.getInt();
      byte[] header = Arrays.copyOfRange(in.array(), 0, in.position());
      byte[] nonce = new byte[NONCE_BYTES];
      in.get(nonce);
      if (in.remaining() < TAG_BYTES) {
        // the JDK's GCM answers a short tag with a bare ProviderException, not a bad-tag error
        throw new InvalidCiphertextException("ciphertext is truncated");
      }
      byte[] sealed = new byte[in.remaining()];
      in.get(sealed);
      Keyring.Key key = key(keyId, keyVersion);
      return open(key, nonce, associatedData(header, fieldPath, tenant), sealed);
    } catch (BufferUnderflowException e) {
      throw new InvalidCiphertextException("ciphertext is truncated");
    }
  }

  /**
   * The key id a ciphertext names. Until it is a valid id it is just record bytes (possibly
   * personal data or a forged log line), so it is checked before any message may quote it.
   */
  private static String keyId(ByteBuffer in) {
    byte[] id = new byte[in.get() & 0xff];
    in.get(id);
    String text = new String(id, StandardCharsets.UTF_8);
    if (!Keyring.isValidId(text)) {
      throw new InvalidCiphertextException("ciphertext names an invalid key id");
    }
    return text;
  }

  private Keyring.Key key(String id, int version) {
    Keyring.Key key = keyring.find(id, version);
    if (key == null) {
      throw new InvalidCiphertextException(
          "ciphertext names key " + id + ":" + version + ", which is not configured");
    }
    return key;
  }

  /**
   * Accepts only the text {@link #encrypt} writes: the decoder alone also takes padding and
   * non-zero trailing bits, which would give one envelope several texts, and deterministic
   * ciphertexts are compared as text (join columns, record keys).
   */
  private static byte[] decode(String text) {
    byte[] bytes;
    try {
      bytes = DECODER.decode(text);
    } catch (IllegalArgumentException e) {
      throw new InvalidCiphertextException("ciphertext is not valid base64url");
    }
    if (!ENCODER.encodeToString(bytes).equals(text)) {
      throw new InvalidCiphertextException("ciphertext is not valid base64url");
    }
    return bytes;
  }

  private static byte[] header(Keyring.Key key, Mode mode) {
    byte[] id = key.id().getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(3 + id.length + 4)
        .put(FORMAT_VERSION)
        .put(mode.code)
        .put((byte) id.length)
        .put(id)
        .putInt(key.version())
        .array();
  }

  /** header | len(path) | path | len(tenant) or -1 | tenant: unambiguous for any strings. */
  static byte[] associatedData(byte[] header, String fieldPath, String tenant) {
    byte[] path = fieldPath.getBytes(StandardCharsets.UTF_8);
    byte[] owner = tenant == null ? new byte[0] : tenant.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(header.length + 8 + path.length + owner.length)
        .put(header)
        .putInt(path.length)
        .put(path)
        .putInt(tenant == null ? NO_TENANT : owner.length)
        .put(owner)
        .array();
  }

  private static byte[] randomNonce() {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    return nonce;
  }

  private byte[] syntheticNonce(Keyring.Key key, byte[] aad, byte[] plaintext) {
    try {
      Mac mac = macs.get();
      mac.init(key.siv());
      mac.update(aad);
      return Arrays.copyOf(mac.doFinal(plaintext), NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot compute a synthetic nonce", e);
    }
  }

  private byte[] seal(Keyring.Key key, byte[] nonce, byte[] aad, byte[] plaintext, Mode mode) {
    try {
      // The JDK refuses to reuse a key and nonce on one Cipher object for encryption, which a
      // deterministic nonce does by design for equal values: give those a fresh Cipher.
      Cipher cipher = mode == Mode.RANDOM ? ciphers.get() : newCipher();
      cipher.init(Cipher.ENCRYPT_MODE, key.aes(), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return cipher.doFinal(plaintext);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
  }

  private byte[] open(Keyring.Key key, byte[] nonce, byte[] aad, byte[] sealed) {
    try {
      Cipher cipher = ciphers.get();
      cipher.init(Cipher.DECRYPT_MODE, key.aes(), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      return cipher.doFinal(sealed);
    } catch (AEADBadTagException e) {
      // A wrong key listed under the right id:version fails exactly like tampering: name the key
      // (never its material) so that misconfiguration can be told apart.
      throw new InvalidCiphertextException(
          "ciphertext failed authentication under key "
              + key
              + ": it was altered, made for another field or tenant, or made with other key "
              + "material than the one configured as "
              + key);
    } catch (GeneralSecurityException e) {
      throw new InvalidCiphertextException("ciphertext cannot be decrypted", e);
    }
  }

  private static Cipher newCipher() {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM/NoPadding is not available in this JDK", e);
    }
  }

  private static Mac newMac() {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
  }
}
