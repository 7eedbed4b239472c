package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code flotilla publication list}: the publications made of repository versions ({@code /api/v1/publications}). */
@Command(name = "publication", description = "List publications.")
public final class PublicationCommands {
  @ParentCommand private FlotillaCli cli;

  @Command(name = "list", description = "List publications, of one repository or all.")
  int list(@Option(names = "--repository", paramLabel = "R", description = "Only this repository's.") String repository)
      throws Exception {
    String path = repository == null ? ApiClient.path("publications")
        : ApiClient.query(ApiClient.path("publications"), Map.of("repository", repository));
    JsonNode answer = cli.api().get(path);
    Output out = cli.output();
    if (out.json()) {
      out.document(answer);
      return ExitCodes.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode p : answer.path("publications")) {
      rows.add(List.of(p.path("id").asText(), p.path("repository").asText(), Output.text(p.path("version")),
          p.path("created").asText("-")));
    }
    out.table(List.of("ID", "REPOSITORY", "VERSION", "CREATED"), rows);
    return ExitCodes.OK;
  }
}
