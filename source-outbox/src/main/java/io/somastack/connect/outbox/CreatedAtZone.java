package io.somastack.connect.outbox;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the relay knows of created.at.time.zone names before asking PostgreSQL, which converts the
 * local times and so alone says whether a zone exists (pg_timezone_names, at task start). Shared by
 * the option's validator and the start-up check, so both refuse the same abbreviations naming the
 * same regions.
 */
final class CreatedAtZone {

  private CreatedAtZone() {}

  /**
   * Zone names PostgreSQL also knows as abbreviations (with timezone_abbreviations=Default, in
   * pg_timezone_abbrevs), which AT TIME ZONE reads as a fixed offset, and the region the time zone
   * database makes of each: the same rules. The names of UTC (UTC, GMT, UCT, Zulu) are
   * abbreviations too but mean +00:00 either way.
   */
  static final Map<String, String> ABBREVIATED_REGIONS =
      Map.of(
          "CET", "Europe/Brussels",
          "MET", "Europe/Brussels",
          "EET", "Europe/Athens",
          "WET", "Europe/Lisbon",
          "EST", "America/Panama",
          "MST", "America/Phoenix",
          "HST", "Pacific/Honolulu");

  /** A time zone database name: segments of letters, digits, _ + -, each led by a letter. */
  private static final Pattern NAME =
      Pattern.compile("[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z][A-Za-z0-9_+-]*)*");

  /** A signed number in a name (UTC+2, GMT-05): an offset. */
  private static final Pattern OFFSET = Pattern.compile(".*[+-][0-9].*");

  /** The database's own fixed offsets, Etc/GMT+2 (posix/Etc/GMT+2 too): UTC-2 to both readers. */
  private static final Pattern ETC_OFFSET = Pattern.compile("(.+/)?Etc/GMT[+-][0-9]{1,2}");

  /** The region to name instead of {@code zone}, if it is one of {@link #ABBREVIATED_REGIONS}. */
  static String regionFor(String zone) {
    return ABBREVIATED_REGIONS.get(zone.toUpperCase(Locale.ROOT));
  }

  /**
   * Why {@code zone} cannot be a created.at.time.zone, by its form alone, or null. An offset
   * (+02:00, UTC+2, GMT+2) is refused: PostgreSQL reads one written as a name with a sign the POSIX
   * way, east and west swapped (UTC+2 is two hours west of UTC), and pg_timezone_names has none but
   * Etc/GMT+N, whose sign both the time zone database and PostgreSQL read so. SystemV/* names are
   * Java's, unknown to PostgreSQL. An abbreviation is refused naming its region.
   */
  static String formProblem(String zone) {
    if (!NAME.matcher(zone).matches()
        || OFFSET.matcher(zone).matches() && !ETC_OFFSET.matcher(zone).matches()) {
      return "not a time zone database name such as Europe/Berlin or UTC (an offset such as"
          + " +02:00 or UTC+2 is none: PostgreSQL reads such a sign the POSIX way, east and west"
          + " swapped; Etc/GMT-2 is a fixed +02:00)";
    }
    if (zone.startsWith("SystemV/")) {
      return "a Java zone name that PostgreSQL does not know: name a region such as"
          + " America/New_York";
    }
    String region = regionFor(zone);
    if (region != null) {
      return abbreviation(zone, null, region);
    }
    return null;
  }

  /**
   * Why {@code zone}, a time zone abbreviation to PostgreSQL, is no created.at.time.zone: its fixed
   * {@code offset} there and the {@code region} to name instead, each null if not known. One
   * wording for the validator and the start-up check, which asks the server's abbreviations.
   */
  static String abbreviation(String zone, String offset, String region) {
    return "a time zone abbreviation to PostgreSQL (pg_timezone_abbrevs), which AT TIME ZONE reads"
        + " as "
        + (offset == null ? "a fixed offset" : "the fixed offset " + offset)
        + ", not as the rules a session of TimeZone "
        + zone
        + " writes by (summer times an hour apart, for a zone with daylight saving): name the"
        + " region whose clocks the writers follow instead, such as "
        + (region == null
            ? "Europe/Berlin"
            : region
                + " (what the time zone database makes of "
                + zone.toUpperCase(Locale.ROOT)
                + ")");
  }
}
