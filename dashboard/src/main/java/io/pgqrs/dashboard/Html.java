package io.pgqrs.dashboard;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;

/**
 * Text made safe for HTML, and the page frame. Every value that reaches a page goes through
 * {@link #text}: queue names are restricted, but payloads, errors, worker names and signal names
 * may hold anything, markup and quotes included.
 */
final class Html {

  private Html() {}

  /** The value as HTML text or attribute content: {@code & < > " '} escaped; {@code null} is empty. */
  static String text(@Nullable Object value) {
    if (value == null) {
      return "";
    }
    String s = value.toString();
    StringBuilder sb = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  /** The value as one URL path segment or query value, percent-encoded (and then safe in an attribute). */
  static String url(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** An instant to the second, in UTC, or a dash. */
  static String time(@Nullable Instant instant) {
    return instant == null ? "–" : instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** A duration the way people read it: {@code 450ms}, {@code 12s}, {@code 3m 5s}, {@code 2h 1m}, {@code 4d 3h}. */
  static String duration(@Nullable Duration duration) {
    if (duration == null) {
      return "–";
    }
    long ms = Math.max(0, duration.toMillis());
    if (ms < 1000) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return (s / 60) + "m " + (s % 60) + "s";
    }
    if (s < 86400) {
      return (s / 3600) + "h " + (s % 3600 / 60) + "m";
    }
    return (s / 86400) + "d " + (s % 86400 / 3600) + "h";
  }

  /** Text cut to {@code max} characters with an ellipsis, then escaped; the whole text is the title. */
  static String abbreviated(@Nullable Object value, int max) {
    if (value == null) {
      return "";
    }
    String s = value.toString();
    if (s.length() <= max) {
      return text(s);
    }
    return "<span title=\"" + text(s) + "\">" + text(s.substring(0, max)) + "…</span>";
  }

  /**
   * A whole page: the frame (title, navigation, style sheet and script of the dashboard) around
   * {@code body}, which must already be HTML.
   */
  static String page(String base, String title, String active, String body) {
    StringBuilder sb = new StringBuilder(body.length() + 1024);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>").append(text(title)).append(" · pgqrs</title>")
        .append("<link rel=\"stylesheet\" href=\"").append(text(base)).append("/static/dashboard.css\">")
        .append("<script defer src=\"").append(text(base)).append("/static/dashboard.js\"></script>")
        .append("</head><body data-base=\"").append(text(base)).append("\">")
        .append("<header><a class=\"brand\" href=\"").append(text(root(base))).append("\">pgqrs</a><nav>");
    nav(sb, base, "", "Overview", active);
    nav(sb, base, "/runs", "Runs", active);
    nav(sb, base, "/workers", "Workers", active);
    sb.append("</nav></header><main>").append(body).append("</main></body></html>\n");
    return sb.toString();
  }

  /** The overview's address: the base path, or {@code /} when the dashboard is mounted at the root. */
  static String root(String base) {
    return base.isEmpty() ? "/" : base;
  }

  private static void nav(StringBuilder sb, String base, String path, String label, String active) {
    sb.append("<a href=\"").append(text(path.isEmpty() ? root(base) : base + path)).append('"')
        .append(label.equals(active) ? " class=\"active\"" : "").append('>').append(label).append("</a>");
  }
}
