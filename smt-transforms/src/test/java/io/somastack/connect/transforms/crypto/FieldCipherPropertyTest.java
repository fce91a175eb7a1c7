package io.somastack.connect.transforms.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.TestRecords;
import java.util.Base64;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** AES-GCM envelopes: every byte counts, and a ciphertext opens only where it was made. */
class FieldCipherPropertyTest {

  private static final String KEYS = "pii:1:" + TestRecords.key(1) + ",pii:2:" + TestRecords.key(2);
  private final FieldCipher cipher = new FieldCipher(Keyring.parse(KEYS));

  @Provide
  Arbitrary<FieldCipher.Mode> modes() {
    return Arbitraries.of(FieldCipher.Mode.class);
  }

  @Property
  void opensWhatItSealed(
      @ForAll @Size(max = 600) byte[] plaintext,
      @ForAll("modes") FieldCipher.Mode mode,
      @ForAll String tenant) {
    String sealed = cipher.encrypt(plaintext, "pii", mode, "payload.content", tenant);
    assertArrayEquals(plaintext, cipher.decrypt(sealed, "payload.content", tenant));
  }

  @Property
  void detectsAnyFlippedByte(
      @ForAll @Size(min = 0, max = 64) byte[] plaintext,
      @ForAll("modes") FieldCipher.Mode mode,
      @ForAll("positions") double where,
      @ForAll("bits") int bit) {
    String sealed = cipher.encrypt(plaintext, "pii", mode, "content", "acme");
    byte[] raw = Base64.getUrlDecoder().decode(sealed.substring(FieldCipher.PREFIX.length()));
    raw[(int) (where * raw.length)] ^= (byte) (1 << bit);
    String tampered =
        FieldCipher.PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    assertThrows(
        InvalidCiphertextException.class, () -> cipher.decrypt(tampered, "content", "acme"));
  }

  @Provide
  Arbitrary<Double> positions() {
    return Arbitraries.doubles().between(0, 1).filter(d -> d < 1);
  }

  @Provide
  Arbitrary<Integer> bits() {
    return Arbitraries.integers().between(0, 7);
  }

  @Property
  void failsInAnotherFieldOrForAnotherTenant(
      @ForAll byte[] plaintext,
      @ForAll("modes") FieldCipher.Mode mode,
      @ForAll("names") String field,
      @ForAll("names") String otherField,
      @ForAll("names") String tenant,
      @ForAll("names") String otherTenant) {
    String sealed = cipher.encrypt(plaintext, "pii", mode, field, tenant);
    if (!field.equals(otherField)) {
      assertThrows(
          InvalidCiphertextException.class, () -> cipher.decrypt(sealed, otherField, tenant));
    }
    if (!tenant.equals(otherTenant)) {
      assertThrows(
          InvalidCiphertextException.class, () -> cipher.decrypt(sealed, field, otherTenant));
    }
  }

  @Provide
  Arbitrary<String> names() {
    return Arbitraries.strings().withCharRange('a', 'e').ofMinLength(1).ofMaxLength(3);
  }

  @Property
  void deterministicModeIsEqualForEqualInputsOnly(
      @ForAll @Size(max = 40) byte[] a, @ForAll @Size(max = 40) byte[] b) {
    FieldCipher.Mode mode = FieldCipher.Mode.DETERMINISTIC;
    String ea = cipher.encrypt(a, "pii", mode, "user_id", "acme");
    assertEquals(ea, cipher.encrypt(a.clone(), "pii", mode, "user_id", "acme"));
    assertNotEquals(ea, cipher.encrypt(a, "pii", mode, "other_id", "acme"));
    assertNotEquals(ea, cipher.encrypt(a, "pii", mode, "user_id", "other"));
    if (!java.util.Arrays.equals(a, b)) {
      assertNotEquals(ea, cipher.encrypt(b, "pii", mode, "user_id", "acme"));
    }
  }

  @Example
  void randomModeNeverRepeats() {
    byte[] plaintext = "same".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertNotEquals(
        cipher.encrypt(plaintext, "pii", FieldCipher.Mode.RANDOM, "f", "t"),
        cipher.encrypt(plaintext, "pii", FieldCipher.Mode.RANDOM, "f", "t"));
  }

  @Example
  void decryptsWithTheVersionTheCiphertextNames() {
    FieldCipher old = new FieldCipher(Keyring.parse("pii:1:" + TestRecords.key(1)));
    String sealed = old.encrypt(new byte[] {1, 2}, "pii", FieldCipher.Mode.RANDOM, "f", "t");
    assertArrayEquals(new byte[] {1, 2}, cipher.decrypt(sealed, "f", "t"));
    FieldCipher rotatedAway = new FieldCipher(Keyring.parse("pii:2:" + TestRecords.key(2)));
    InvalidCiphertextException e =
        assertThrows(InvalidCiphertextException.class, () -> rotatedAway.decrypt(sealed, "f", "t"));
    assertEquals("ciphertext names key pii:1, which is not configured", e.getMessage());
  }

  @Example
  void aSameNamedKeyWithOtherMaterialFails() {
    FieldCipher impostor = new FieldCipher(Keyring.parse("pii:2:" + TestRecords.key(9)));
    String sealed = cipher.encrypt(new byte[] {1}, "pii", FieldCipher.Mode.RANDOM, "f", "t");
    assertThrows(InvalidCiphertextException.class, () -> impostor.decrypt(sealed, "f", "t"));
  }

  @Example
  void rejectsTextThatIsNoEnvelope() {
    assertThrows(InvalidCiphertextException.class, () -> cipher.decrypt("hello", "f", "t"));
    assertThrows(
        InvalidCiphertextException.class,
        () -> cipher.decrypt(FieldCipher.PREFIX + "!!", "f", "t"));
    assertThrows(
        InvalidCiphertextException.class,
        () -> cipher.decrypt(FieldCipher.PREFIX + "AQ", "f", "t"));
  }

  @Example
  void unboundAndBoundTenantsDoNotMix() {
    String unbound = cipher.encrypt(new byte[] {7}, "pii", FieldCipher.Mode.RANDOM, "f", null);
    assertThrows(InvalidCiphertextException.class, () -> cipher.decrypt(unbound, "f", ""));
    assertArrayEquals(new byte[] {7}, cipher.decrypt(unbound, "f", null));
  }

  private static String envelope(byte[] raw) {
    return FieldCipher.PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  private static byte[] raw(String envelope) {
    return Base64.getUrlDecoder().decode(envelope.substring(FieldCipher.PREFIX.length()));
  }

  /**
   * An envelope cut anywhere inside its 16-byte tag is truncated input like any other: the JDK's
   * GCM throws a bare ProviderException for it, which would escape the record error handling.
   */
  @Example
  void anEnvelopeCutInsideItsTagIsRejectedAsTruncated() {
    byte[] whole = raw(cipher.encrypt(new byte[0], "pii", FieldCipher.Mode.RANDOM, "f", "t"));
    for (int cut = 1; cut <= 16; cut++) {
      String shortened = envelope(java.util.Arrays.copyOf(whole, whole.length - cut));
      InvalidCiphertextException e =
          assertThrows(InvalidCiphertextException.class, () -> cipher.decrypt(shortened, "f", "t"));
      assertEquals("ciphertext is truncated", e.getMessage());
    }
    String intact = cipher.encrypt(new byte[] {3}, "pii", FieldCipher.Mode.RANDOM, "f", "t");
    assertArrayEquals(new byte[] {3}, cipher.decrypt(intact, "f", "t"));
  }

  /** The key id in a ciphertext is record data until it matches a configured id: never echo it. */
  @Example
  void aKeyIdThatIsNoValidIdIsNotEchoed() {
    byte[] id = "\nFAKE LOG".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(3 + id.length + 4 + 12 + 16);
    raw.put(FieldCipher.FORMAT_VERSION).put((byte) 0).put((byte) id.length).put(id).putInt(1);
    InvalidCiphertextException e =
        assertThrows(
            InvalidCiphertextException.class,
            () -> cipher.decrypt(envelope(raw.array()), "f", "t"));
    assertEquals("ciphertext names an invalid key id", e.getMessage());
  }

  /**
   * Base64 decoders also take padding and non-zero trailing bits, so one envelope has several
   * texts; a deterministic ciphertext is only a usable key or join column if it has exactly one.
   */
  @Example
  void acceptsOnlyTheOneTextEncryptWrites() {
    String sealed =
        cipher.encrypt(new byte[] {1, 2, 3, 4, 5}, "pii", FieldCipher.Mode.DETERMINISTIC, "f", "t");
    String body = sealed.substring(FieldCipher.PREFIX.length());
    assertTrue(body.length() % 4 != 0, "the test needs an envelope with trailing bits");
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char last = body.charAt(body.length() - 1);
    String otherBits =
        FieldCipher.PREFIX
            + body.substring(0, body.length() - 1)
            + alphabet.charAt(alphabet.indexOf(last) ^ 1);
    String padded = sealed + "=".repeat(4 - body.length() % 4);
    for (String alias : java.util.List.of(otherBits, padded)) {
      InvalidCiphertextException e =
          assertThrows(InvalidCiphertextException.class, () -> cipher.decrypt(alias, "f", "t"));
      assertEquals("ciphertext is not valid base64url", e.getMessage());
    }
  }
}
