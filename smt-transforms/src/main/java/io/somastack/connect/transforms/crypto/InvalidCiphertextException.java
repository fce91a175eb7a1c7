package io.somastack.connect.transforms.crypto;

/**
 * A ciphertext that cannot be opened: malformed, made with an unknown key, or failing
 * authentication (tampered, or moved to another field or tenant). Messages never hold plaintext,
 * ciphertext or key material.
 */
public class InvalidCiphertextException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public InvalidCiphertextException(String message) {
    super(message);
  }

  public InvalidCiphertextException(String message, Throwable cause) {
    super(message, cause);
  }
}
