package io.flotilla;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Dependencies point down: each package may import only the packages listed for it. */
class ArchitectureTest {
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("oci", Set.of()),
      Map.entry("config", Set.of()),
      Map.entry("cli", Set.of()),
      Map.entry("storage", Set.of("oci", "config")),
      Map.entry("bus", Set.of("oci", "config", "storage")),
      Map.entry("cluster", Set.of("oci", "config", "storage", "bus")),
      Map.entry("http", Set.of("oci", "config", "storage", "auth", "search")),
      Map.entry("search", Set.of("oci", "config", "storage", "bus", "cluster", "scan")),
      Map.entry("events", Set.of("oci", "config", "storage")),
      Map.entry("auth", Set.of("oci", "config", "storage", "bus", "cluster")),
      Map.entry("content", Set.of("oci", "config", "storage", "bus", "cluster", "auth", "http")),
      Map.entry("scan", Set.of("oci", "config", "storage", "bus", "cluster")),
      Map.entry("boot", Set.of("oci", "config", "storage", "bus", "cluster", "http", "events", "auth", "search", "scan",
          "content")));
  private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.flotilla\\.([a-z]+)\\.", Pattern.MULTILINE);

  @Test
  void importsPointDown() throws IOException {
    Path root = Path.of("src/main/java/io/flotilla");
    List<String> violations = new ArrayList<>();
    try (var files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String pkg = root.relativize(f).getName(0).toString();
        Set<String> allowed = ALLOWED.get(pkg);
        if (allowed == null) {
          violations.add(f + ": package " + pkg + " has no dependency rule");
          continue;
        }
        String src = Files.readString(f);
        Matcher m = IMPORT.matcher(src);
        while (m.find()) {
          String target = m.group(1);
          if (!target.equals(pkg) && !allowed.contains(target)) {
            violations.add(f + " imports io.flotilla." + target);
          }
        }
        Matcher fq = Pattern.compile("io\\.flotilla\\.([a-z]+)\\.[A-Z]").matcher(src);
        while (fq.find()) {
          String target = fq.group(1);
          if (!target.equals(pkg) && !allowed.contains(target)) {
            violations.add(f + " refers to io.flotilla." + target);
          }
        }
      }
    }
    assertEquals(List.of(), violations);
  }
}
