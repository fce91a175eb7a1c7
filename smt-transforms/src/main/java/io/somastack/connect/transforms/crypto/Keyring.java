package io.somastack.connect.transforms.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 keys a transform may use, each named by an id and a version: {@code
 * id:version:base64key} entries separated by commas, e.g. {@code
 * tenant-data:1:q0w...=,tenant-data:2:9xk...=}. Encryption uses the highest version of the
 * configured id; decryption uses whichever id and version the ciphertext names, so a key is rotated
 * by adding a version, and retired once no ciphertext names it.
 *
 * <p>Parse errors name the entry by position, never its key material.
 */
public final class Keyring {

  public static final int KEY_BYTES = 32;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final byte[] SIV_LABEL =
      "soma-connect/siv-key/v1".getBytes(StandardCharsets.UTF_8);

  /** One key: the AES key, and a separate key derived from it for synthetic nonces. */
  public record Key(String id, int version, SecretKey aes, SecretKey siv) {
    @Override
    public String toString() {
      return id + ":" + version;
    }
  }

  private final Map<String, Map<Integer, Key>> keys;

  private Keyring(Map<String, Map<Integer, Key>> keys) {
    this.keys = keys;
  }

  /** Parses a key list; an {@link IllegalArgumentException} says which entry is wrong and why. */
  public static Keyring parse(String spec) {
    Map<String, Map<Integer, Key>> keys = new HashMap<>();
    String[] entries = spec == null ? new String[0] : spec.trim().split("\\s*,\\s*");
    for (int i = 0; i < entries.length; i++) {
      if (entries[i].isEmpty()) {
        continue;
      }
      Key key = parseEntry(entries[i], i + 1);
      Key previous = keys.computeIfAbsent(key.id(), id -> new HashMap<>()).put(key.version(), key);
      if (previous != null) {
        throw new IllegalArgumentException("key " + key + " is listed twice");
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no keys given; expected id:version:base64key entries");
    }
    return new Keyring(Collections.unmodifiableMap(keys));
  }

  private static Key parseEntry(String entry, int position) {
    String[] parts = entry.split(":", 3);
    if (parts.length != 3) {
      throw new IllegalArgumentException(
          "key entry " + position + " is not of the form id:version:base64key");
    }
    String id = parts[0].trim();
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "key entry " + position + " has an invalid id; use 1-64 of A-Z a-z 0-9 . _ -");
    }
    int version = parseVersion(parts[1].trim(), position);
    byte[] material = decode(parts[2].trim(), position);
    if (material.length != KEY_BYTES) {
      throw new IllegalArgumentException(
          "key "
              + id
              + ":"
              + version
              + " must be "
              + KEY_BYTES
              + " bytes (AES-256) but is "
              + material.length);
    }
    return new Key(id, version, new SecretKeySpec(material, "AES"), deriveSivKey(material));
  }

  private static int parseVersion(String text, int position) {
    try {
      int version = Integer.parseInt(text);
      if (version > 0) {
        return version;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "key entry " + position + " needs a positive integer version");
  }

  private static byte[] decode(String text, int position) {
    try {
      return text.indexOf('-') >= 0 || text.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(text)
          : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key entry " + position + " is not valid base64");
    }
  }

  /**
   * The synthetic-nonce key is HMAC-SHA-256(key, label): one configured secret, two keys that are
   * independent for all practical purposes, so the MAC never runs under the AES key itself.
   */
  private static SecretKey deriveSivKey(byte[] material) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(material, "HmacSHA256"));
      return new SecretKeySpec(mac.doFinal(SIV_LABEL), "HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
  }

  /** Whether text has the form of a key id (1-64 of A-Z a-z 0-9 . _ -). */
  static boolean isValidId(String text) {
    return ID.matcher(text).matches();
  }

  public boolean contains(String id) {
    return keys.containsKey(id);
  }

  /** The highest version of a key id: the one new ciphertexts are made with. */
  public Key current(String id) {
    Map<Integer, Key> versions = keys.get(id);
    if (versions == null) {
      throw new IllegalArgumentException("no key with id '" + id + "'");
    }
    return versions.get(Collections.max(versions.keySet()));
  }

  /** A key by id and version, or null when this keyring does not hold it. */
  public Key find(String id, int version) {
    Map<Integer, Key> versions = keys.get(id);
    return versions == null ? null : versions.get(version);
  }
}
