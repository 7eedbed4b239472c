package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TagFilterTest {
  private static final List<String> TAGS = List.of("v1.0", "v1.1", "v1.2-rc", "v10", "v2.0", "latest", "dev",
      "v1x0");

  private static List<String> selected(SyncSpec spec) {
    TagFilter filter = spec.filter();
    return TAGS.stream().filter(t -> filter.selects(new Tag(t))).toList();
  }

  private static SyncSpec spec() {
    return SyncSpec.of(RepositoryName.of("lib/app"), RepositoryName.of("mirror/app"));
  }

  @Test
  void noIncludesSelectsEveryTag() {
    assertEquals(TAGS, selected(spec()));
  }

  @Test
  void starMatchesAnyRunWithinATagAndDotsAreLiteral() {
    assertEquals(List.of("v1.0", "v1.1", "v1.2-rc"), selected(spec().including("v1.*")));
    assertEquals(List.of("v1.0", "v1.1", "v1.2-rc", "v10", "v1x0"), selected(spec().including("v1*")));
    assertEquals(List.of("latest"), selected(spec().including("latest")));
    assertEquals(List.of("v1.2-rc"), selected(spec().including("*-rc")));
  }

  @Test
  void excludesWinOverIncludes() {
    assertEquals(List.of("v1.0", "v1.1", "v2.0"), selected(spec().including("v1.*", "v2.*").excluding("*-rc")));
    assertEquals(Stream.of("v1.0", "v1.1", "v1.2-rc", "v10", "v2.0", "v1x0").toList(),
        selected(spec().excluding("latest", "dev")));
    assertEquals(List.of(), selected(spec().including("v1.*").excluding("*")));
  }
}
