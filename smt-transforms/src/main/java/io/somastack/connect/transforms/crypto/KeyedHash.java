package io.somastack.connect.transforms.crypto;

import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA-256 as lower-case hex: a pseudonym that is equal for equal inputs (so redacted values
 * still join and group) but cannot be reversed or guessed by hashing candidates without the key.
 */
public final class KeyedHash {

  public static final int MIN_KEY_BYTES = 32;

  private final SecretKeySpec key;
  private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

  public KeyedHash(byte[] key) {
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "an HMAC key needs at least " + MIN_KEY_BYTES + " bytes but has " + key.length);
    }
    this.key = new SecretKeySpec(key, "HmacSHA256");
  }

  /** Drops the calling thread's keyed Mac; see {@link FieldCipher#releaseThreadState()}. */
  public void releaseThreadState() {
    macs.remove();
  }

  public String hash(byte[] input) {
    return HexFormat.of().formatHex(macs.get().doFinal(input));
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JDK", e);
    }
  }
}
