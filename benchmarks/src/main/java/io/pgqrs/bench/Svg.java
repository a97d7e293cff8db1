package io.pgqrs.bench;

import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** Hand-written SVG charts for the report: line charts over categories and grouped bar charts. */
final class Svg {

  private static final int WIDTH = 760;
  private static final int HEIGHT = 420;
  private static final int LEFT = 80;
  private static final int RIGHT = 200;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;
  private static final String[] COLORS = {
      "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

  /** One line of a line chart: a value (or null) per category. */
  record Series(String name, List<@Nullable Double> values, String dash, int color) {

    Series(String name, List<@Nullable Double> values, String dash) {
      this(name, values, dash, -1);
    }
  }

  /** One group of a bar chart: a label and a value per bar name. */
  record Group(String label, List<@Nullable Double> values) {}

  private Svg() {}

  static String lineChart(String title, String xLabel, String yLabel, List<String> categories, List<Series> series) {
    double max = 0;
    for (Series s : series) {
      for (Double v : s.values()) {
        if (v != null) {
          max = Math.max(max, v);
        }
      }
    }
    double top = niceCeiling(max);
    StringBuilder sb = header(title);
    axes(sb, top, xLabel, yLabel);
    int plotW = WIDTH - LEFT - RIGHT;
    int n = categories.size();
    for (int i = 0; i < n; i++) {
      double x = xAt(i, n, plotW);
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">%s</text>%n",
          x, HEIGHT - BOTTOM + 18, esc(categories.get(i))));
    }
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      String color = COLORS[(s.color() >= 0 ? s.color() : k) % COLORS.length];
      StringBuilder points = new StringBuilder();
      for (int i = 0; i < n && i < s.values().size(); i++) {
        Double v = s.values().get(i);
        if (v == null) {
          continue;
        }
        double x = xAt(i, n, plotW);
        double y = yAt(v, top);
        points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n", x, y, color));
      }
      if (points.length() > 0) {
        sb.append(String.format(Locale.ROOT,
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"%s\"/>%n", color,
            s.dash().isEmpty() ? "" : " stroke-dasharray=\"" + s.dash() + "\"", points.toString().trim()));
      }
      legend(sb, k, s.name(), color, s.dash());
    }
    return sb.append("</svg>\n").toString();
  }

  static String barChart(String title, String yLabel, List<String> barNames, List<Group> groups) {
    double max = 0;
    for (Group g : groups) {
      for (Double v : g.values()) {
        if (v != null) {
          max = Math.max(max, v);
        }
      }
    }
    double top = niceCeiling(max);
    StringBuilder sb = header(title);
    axes(sb, top, "", yLabel);
    int plotW = WIDTH - LEFT - RIGHT;
    double groupW = plotW / (double) Math.max(1, groups.size());
    double barW = groupW * 0.8 / Math.max(1, barNames.size());
    for (int gi = 0; gi < groups.size(); gi++) {
      Group g = groups.get(gi);
      double gx = LEFT + gi * groupW + groupW * 0.1;
      for (int bi = 0; bi < barNames.size() && bi < g.values().size(); bi++) {
        Double v = g.values().get(bi);
        if (v == null) {
          continue;
        }
        double x = gx + bi * barW;
        double y = yAt(v, top);
        sb.append(String.format(Locale.ROOT,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>%n",
            x, y, barW - 2, HEIGHT - BOTTOM - y, COLORS[bi % COLORS.length]));
        sb.append(String.format(Locale.ROOT,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%s</text>%n",
            x + (barW - 2) / 2, y - 3, esc(format(v))));
      }
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">%s</text>%n",
          gx + groupW * 0.4, HEIGHT - BOTTOM + 18, esc(g.label())));
    }
    for (int bi = 0; bi < barNames.size(); bi++) {
      legend(sb, bi, barNames.get(bi), COLORS[bi % COLORS.length], "");
    }
    return sb.append("</svg>\n").toString();
  }

  private static StringBuilder header(String title) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            + "font-family=\"Helvetica, Arial, sans-serif\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
    sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
    sb.append(String.format(Locale.ROOT,
        "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">%s</text>%n",
        (WIDTH - RIGHT + LEFT) / 2, esc(title)));
    return sb;
  }

  private static void axes(StringBuilder sb, double top, String xLabel, String yLabel) {
    int x0 = LEFT;
    int y0 = HEIGHT - BOTTOM;
    int x1 = WIDTH - RIGHT;
    for (int t = 0; t <= 5; t++) {
      double v = top * t / 5;
      double y = yAt(v, top);
      sb.append(String.format(Locale.ROOT,
          "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>%n", x0, y, x1, y));
      sb.append(String.format(Locale.ROOT,
          "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%s</text>%n", x0 - 6, y + 4, esc(format(v))));
    }
    sb.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", x0, y0, x1, y0));
    sb.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n", x0, TOP, x0, y0));
    if (!xLabel.isEmpty()) {
      sb.append(String.format(Locale.ROOT,
          "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">%s</text>%n",
          (x0 + x1) / 2, HEIGHT - 18, esc(xLabel)));
    }
    sb.append(String.format(Locale.ROOT,
        "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 18 %d)\">%s</text>%n",
        (TOP + y0) / 2, (TOP + y0) / 2, esc(yLabel)));
  }

  private static void legend(StringBuilder sb, int index, String name, String color, String dash) {
    int x = WIDTH - RIGHT + 16;
    int y = TOP + 10 + index * 20;
    sb.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"%s/>%n",
        x, y, x + 24, y, color, dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\""));
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>%n", x + 30, y + 4, esc(name)));
  }

  private static double xAt(int i, int n, int plotW) {
    return n == 1 ? LEFT + plotW / 2.0 : LEFT + 30 + i * (plotW - 60) / (double) (n - 1);
  }

  private static double yAt(double v, double top) {
    int plotH = HEIGHT - TOP - BOTTOM;
    return HEIGHT - BOTTOM - (top == 0 ? 0 : v / top * plotH);
  }

  /** The smallest "round" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) at or above the value. */
  static double niceCeiling(double v) {
    if (v <= 0) {
      return 1;
    }
    double exp = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
      if (m * exp >= v) {
        return m * exp;
      }
    }
    return 10 * exp;
  }

  static String format(double v) {
    if (v >= 10_000) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
