package io.flotilla.content;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 9110 section 11.6.1): a scheme such as
 * {@code Bearer} or {@code Basic} and its parameters, names lower-cased. {@link #parse} reads every
 * challenge of a header value: quoted values may hold commas and escaped quotes
 * ({@code scope="repository:a:pull,push"}), a header may list several challenges, and unquoted values
 * are read up to the next comma or space, as lenient clients do. Stateless.
 */
record WwwAuthenticate(String scheme, Map<String, String> params) {
  WwwAuthenticate {
    params = Map.copyOf(params);
  }

  boolean is(String name) {
    return scheme.equalsIgnoreCase(name);
  }

  /** A parameter's value, or null. */
  String param(String name) {
    return params.get(name.toLowerCase(Locale.ROOT));
  }

  /** Every challenge in the header values, in order; nothing for null or garbage. */
  static List<WwwAuthenticate> parse(List<String> headers) {
    List<WwwAuthenticate> out = new ArrayList<>();
    for (String h : headers) {
      if (h != null) {
        new Reader(h).challenges(out);
      }
    }
    return out;
  }

  /** The first challenge of {@code scheme}, or null. */
  static WwwAuthenticate find(List<WwwAuthenticate> challenges, String scheme) {
    for (WwwAuthenticate c : challenges) {
      if (c.is(scheme)) {
        return c;
      }
    }
    return null;
  }

  private static final class Reader {
    private final String s;
    private int pos;

    Reader(String s) {
      this.s = s;
    }

    void challenges(List<WwwAuthenticate> out) {
      while (true) {
        skip(", \t");
        String scheme = token();
        if (scheme.isEmpty()) {
          return; // end, or a character no challenge starts with: stop rather than guess
        }
        Map<String, String> params = new LinkedHashMap<>();
        while (true) {
          int mark = pos;
          skip(", \t");
          String name = token();
          skip(" \t");
          if (name.isEmpty() || pos >= s.length() || s.charAt(pos) != '=') {
            pos = mark; // not a parameter: the next challenge's scheme (or the end)
            break;
          }
          pos++;
          skip(" \t");
          if (pos < s.length() && s.charAt(pos) == '=') { // token68 such as "Negotiate abc==": not a parameter
            while (pos < s.length() && s.charAt(pos) == '=') {
              pos++;
            }
            continue;
          }
          params.put(name.toLowerCase(Locale.ROOT), pos < s.length() && s.charAt(pos) == '"' ? quoted() : bare());
        }
        out.add(new WwwAuthenticate(scheme, params));
      }
    }

    private void skip(String chars) {
      while (pos < s.length() && chars.indexOf(s.charAt(pos)) >= 0) {
        pos++;
      }
    }

    private String token() {
      int start = pos;
      while (pos < s.length() && isTokenChar(s.charAt(pos))) {
        pos++;
      }
      return s.substring(start, pos);
    }

    private String bare() {
      int start = pos;
      while (pos < s.length() && s.charAt(pos) != ',' && s.charAt(pos) != ' ' && s.charAt(pos) != '\t') {
        pos++;
      }
      return s.substring(start, pos);
    }

    private String quoted() {
      StringBuilder b = new StringBuilder();
      pos++; // the opening quote
      while (pos < s.length()) {
        char c = s.charAt(pos++);
        if (c == '"') {
          return b.toString();
        }
        if (c == '\\' && pos < s.length()) {
          c = s.charAt(pos++);
        }
        b.append(c);
      }
      return b.toString(); // unterminated: what there is
    }

    private static boolean isTokenChar(char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
  }
}
