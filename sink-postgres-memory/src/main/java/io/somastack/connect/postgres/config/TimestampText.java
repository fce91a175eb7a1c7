package io.somastack.connect.postgres.config;

/**
 * Reads the text of a time with an offset as PostgreSQL's timestamptz input reads it, so a typed
 * column and the audit event time hold what {@code (payload->>'f')::timestamptz} would. The forms:
 *
 * <pre>
 *   YYYY-MM-DD ('T' | 't' | ' ') hh:mm [':' ss ['.' fraction]] offset
 *   fraction: 0 to 64 digits
 *   offset: 'Z' | 'z' | ('+' | '-') hh [[':'] mm] | ('+' | '-') hh ':' mm ':' ss
 * </pre>
 *
 * Each number has exactly the digits shown. As PostgreSQL: second 60 is read as the next minute's
 * :00 (a leap second), 24:00:00 as the next day's midnight (nothing past it), fractional digits
 * beyond microseconds are rounded to the nearest microsecond (as PostgreSQL does, rint of the
 * fraction as a double times 10^6: a half goes to the even microsecond), and offsets reach
 * ±15:59:59. The fraction's digits are bounded as PostgreSQL refuses a field much longer. Text
 * without an offset is refused: its instant would depend on a time zone.
 *
 * <p>A year written with a sign (Java's form for years beyond 9999 or before 1, {@code
 * +12026-01-01T...}) is read only to be refused as {@link #OUT_OF_RANGE}. It runs per record for
 * each timestamptz column: it reads the characters in place and allocates nothing, but for more
 * than six fractional digits.
 */
final class TimestampText {

  /** The text is none of the forms. */
  static final long UNREADABLE = Long.MIN_VALUE;

  /** The text is of the forms, but with a year written with a sign: outside the years 1 to 9999. */
  static final long OUT_OF_RANGE = Long.MIN_VALUE + 1;

  static final int MOST_FRACTION_DIGITS = 64;

  private static final long MICROS_PER_SECOND = 1_000_000L;
  private static final long MICROS_PER_DAY = 86_400L * MICROS_PER_SECOND;
  private static final int MOST_OFFSET_HOURS = 15; // PostgreSQL's MAX_TZDISP_HOUR

  private TimestampText() {}

  /**
   * The microseconds since 1970-01-01T00:00Z of the text, or {@link #UNREADABLE}, or {@link
   * #OUT_OF_RANGE}.
   */
  static long epochMicros(String s) {
    int n = s.length();
    int i = 0;
    boolean signedYear = n > 0 && (s.charAt(0) == '+' || s.charAt(0) == '-');
    if (signedYear) {
      i = 1;
    }
    int yearStart = i;
    long year = 0;
    while (i < n && i - yearStart < 10 && isDigit(s.charAt(i))) {
      year = year * 10 + (s.charAt(i) - '0');
      i++;
    }
    int yearDigits = i - yearStart;
    if (signedYear ? yearDigits < 4 || yearDigits > 9 : yearDigits != 4) {
      return UNREADABLE;
    }
    if (!at(s, i, '-')) {
      return UNREADABLE;
    }
    int month = twoDigits(s, i + 1);
    if (month < 0 || !at(s, i + 3, '-')) {
      return UNREADABLE;
    }
    int day = twoDigits(s, i + 4);
    i += 6;
    if (day < 0 || i >= n) {
      return UNREADABLE;
    }
    char separator = s.charAt(i);
    if (separator != 'T' && separator != 't' && separator != ' ') {
      return UNREADABLE;
    }
    int hour = twoDigits(s, i + 1);
    if (hour < 0 || !at(s, i + 3, ':')) {
      return UNREADABLE;
    }
    int minute = twoDigits(s, i + 4);
    if (minute < 0) {
      return UNREADABLE;
    }
    i += 6;
    int second = 0;
    long micros = 0;
    if (at(s, i, ':')) {
      second = twoDigits(s, i + 1);
      if (second < 0) {
        return UNREADABLE;
      }
      i += 3;
      if (at(s, i, '.')) {
        int point = i;
        i++;
        while (i < n && isDigit(s.charAt(i))) {
          i++;
        }
        micros = fractionMicros(s, point, i);
        if (micros < 0) {
          return UNREADABLE;
        }
      }
    }
    long offsetSeconds = offsetSeconds(s, i);
    if (offsetSeconds == UNREADABLE) {
      return UNREADABLE;
    }
    if (signedYear) {
      // Java's form for years past 9999 and before 1; "+2024" is no form
      return s.charAt(0) == '-' || year > 9999 ? OUT_OF_RANGE : UNREADABLE;
    }
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      return UNREADABLE;
    }
    // PostgreSQL's time_overflows: each field in range, and the whole no later than 24:00:00
    if (hour > 24 || minute > 59 || second > 60) {
      return UNREADABLE;
    }
    long timeOfDay = ((hour * 60L + minute) * 60 + second) * MICROS_PER_SECOND + micros;
    if (timeOfDay > MICROS_PER_DAY) {
      return UNREADABLE;
    }
    return (epochDay(year, month, day) * 86_400L - offsetSeconds) * MICROS_PER_SECOND + timeOfDay;
  }

  /**
   * The microseconds of the fraction from the point at {@code point} to {@code end}, as PostgreSQL
   * takes them (rint(strtod(fraction) * 1e6)); -1 if too long. Six digits or fewer are exact in
   * integers; more are read as a double, as PostgreSQL does, so a tie rounds as it does.
   */
  private static long fractionMicros(String s, int point, int end) {
    int digits = end - point - 1;
    if (digits > MOST_FRACTION_DIGITS) {
      return -1;
    }
    if (digits == 0) {
      return 0; // "12:00:00.": PostgreSQL reads it as no fraction
    }
    if (digits <= 6) {
      long value = 0;
      for (int i = point + 1; i < end; i++) {
        value = value * 10 + (s.charAt(i) - '0');
      }
      for (int i = digits; i < 6; i++) {
        value *= 10;
      }
      return value;
    }
    return (long) Math.rint(Double.parseDouble(s.substring(point, end)) * 1e6);
  }

  /** The offset ending the text at {@code i}, in seconds east of UTC; UNREADABLE if none. */
  private static long offsetSeconds(String s, int i) {
    int n = s.length();
    if (i >= n) {
      return UNREADABLE; // no offset: which instant it means depends on a time zone
    }
    char sign = s.charAt(i);
    if (sign == 'Z' || sign == 'z') {
      return i + 1 == n ? 0 : UNREADABLE;
    }
    if (sign != '+' && sign != '-') {
      return UNREADABLE;
    }
    int hours = twoDigits(s, i + 1);
    int minutes = 0;
    int seconds = 0;
    int end = i + 3;
    if (hours < 0) {
      return UNREADABLE;
    }
    if (at(s, end, ':')) {
      minutes = twoDigits(s, end + 1);
      end += 3;
      if (minutes >= 0 && at(s, end, ':')) {
        seconds = twoDigits(s, end + 1);
        end += 3;
      }
    } else if (end < n) {
      minutes = twoDigits(s, end); // basic form: hhmm
      end += 2;
    }
    if (minutes < 0 || seconds < 0 || end != n) {
      return UNREADABLE;
    }
    if (hours > MOST_OFFSET_HOURS || minutes > 59 || seconds > 59) {
      return UNREADABLE;
    }
    long offset = (hours * 60L + minutes) * 60 + seconds;
    return sign == '-' ? -offset : offset;
  }

  /** The two digits at {@code i} as a number, or -1. */
  private static int twoDigits(String s, int i) {
    if (i + 2 > s.length()) {
      return -1;
    }
    char tens = s.charAt(i);
    char ones = s.charAt(i + 1);
    if (!isDigit(tens) || !isDigit(ones)) {
      return -1;
    }
    return (tens - '0') * 10 + (ones - '0');
  }

  private static boolean at(String s, int i, char c) {
    return i < s.length() && s.charAt(i) == c;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int daysInMonth(long year, int month) {
    switch (month) {
      case 2:
        boolean leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        return leap ? 29 : 28;
      case 4:
      case 6:
      case 9:
      case 11:
        return 30;
      default:
        return 31;
    }
  }

  /**
   * Days since 1970-01-01 of a date of the proleptic Gregorian calendar (as Java and PostgreSQL).
   */
  private static long epochDay(long year, int month, int day) {
    long y = month <= 2 ? year - 1 : year;
    long era = Math.floorDiv(y, 400);
    long yearOfEra = y - era * 400;
    long dayOfYear = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146_097 + dayOfEra - 719_468;
  }
}
