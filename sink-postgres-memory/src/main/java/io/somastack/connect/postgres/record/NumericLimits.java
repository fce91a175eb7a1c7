package io.somastack.connect.postgres.record;

import java.math.BigDecimal;

/** What PostgreSQL's numeric (and so jsonb's numbers) can hold. */
public final class NumericLimits {

  /** Digits before the decimal point. */
  private static final int INTEGER_DIGITS = 131_072;

  /** Digits after it. */
  private static final int FRACTION_DIGITS = 16_383;

  private NumericLimits() {}

  /** Whether numeric holds the number as written (trailing zeros count, as jsonb counts them). */
  public static boolean fits(BigDecimal number) {
    return number.precision() - number.scale() <= INTEGER_DIGITS
        && number.scale() <= FRACTION_DIGITS;
  }
}
