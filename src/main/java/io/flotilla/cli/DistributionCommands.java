package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla distribution create|update|list|show|delete}: where a repository's publications
 * are served ({@code /api/v1/distributions}).
 */
@Command(name = "distribution", description = "Manage distributions: base paths serving publications.")
public final class DistributionCommands {
  @ParentCommand private FlotillaCli cli;
  @Spec private CommandSpec spec;

  @Command(name = "create", description = "Create a distribution of a repository (its latest or a given version) or of a publication.")
  int create(
      @Parameters(paramLabel = "NAME") String name,
      @Option(names = "--base-path", required = true, paramLabel = "P", description = "The path it is served under.") String basePath,
      @Option(names = "--repository", paramLabel = "R", description = "Serve this repository's publications.") String repository,
      @Option(names = "--version", paramLabel = "N", description = "Serve this version's publication (default the latest).") Long version,
      @Option(names = "--publication", paramLabel = "ID", description = "Serve this publication.") String publication)
      throws Exception {
    CommandLine here = spec.subcommands().get("create");
    if ((repository == null) == (publication == null)) {
      throw cli.usage(here, "give either --repository (with --version or not) or --publication");
    }
    if (version != null && repository == null) {
      throw cli.usage(here, "--version needs --repository");
    }
    ObjectNode body = cli.json().createObjectNode();
    body.put("name", name);
    body.put("basePath", basePath);
    RemoteCommands.putIf(body, "repository", repository);
    if (version != null) {
      body.put("version", version);
    }
    RemoteCommands.putIf(body, "publication", publication);
    cli.output().show(cli.api().post(ApiClient.path("distributions"), body));
    return ExitCodes.OK;
  }

  @Command(name = "update", description = "Change what a distribution serves (only the options given).")
  int update(
      @Parameters(paramLabel = "NAME") String name,
      @Option(names = "--version", paramLabel = "N", description = "Serve this version's publication.") Long version,
      @Option(names = "--latest", description = "Follow the repository's latest publication.") boolean latest,
      @Option(names = "--publication", paramLabel = "ID", description = "Serve this publication.") String publication,
      @Option(names = "--repository", paramLabel = "R", description = "Serve this repository's publications.") String repository)
      throws Exception {
    CommandLine here = spec.subcommands().get("update");
    if (latest && version != null) {
      throw cli.usage(here, "--latest and --version are exclusive");
    }
    ObjectNode body = cli.json().createObjectNode();
    RemoteCommands.putIf(body, "repository", repository);
    if (version != null) {
      body.put("version", version);
    } else if (latest) {
      body.putNull("version");
    }
    RemoteCommands.putIf(body, "publication", publication);
    if (body.isEmpty()) {
      throw cli.usage(here, "nothing to change: give --version, --latest, --publication or --repository");
    }
    cli.output().show(cli.api().patch(ApiClient.path("distributions", name), body));
    return ExitCodes.OK;
  }

  @Command(name = "list", description = "List the distributions.")
  int list() throws Exception {
    JsonNode answer = cli.api().get(ApiClient.path("distributions"));
    Output out = cli.output();
    if (out.json()) {
      out.document(answer);
      return ExitCodes.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode d : answer.path("distributions")) {
      JsonNode v = d.path("version");
      rows.add(List.of(d.path("name").asText(), d.path("basePath").asText(), Output.text(d.path("repository")),
          v.isNull() || v.isMissingNode() ? "latest" : v.asText(), Output.text(d.path("servedVersion")),
          Output.text(d.path("publication"))));
    }
    out.table(List.of("NAME", "BASE PATH", "REPOSITORY", "VERSION", "SERVED", "PUBLICATION"), rows);
    return ExitCodes.OK;
  }

  @Command(name = "show", description = "Show a distribution.")
  int show(@Parameters(paramLabel = "NAME") String name) throws Exception {
    cli.output().show(cli.api().get(ApiClient.path("distributions", name)));
    return ExitCodes.OK;
  }

  @Command(name = "delete", description = "Delete a distribution.")
  int delete(@Parameters(paramLabel = "NAME") String name) throws Exception {
    cli.api().delete(ApiClient.path("distributions", name));
    if (!cli.output().json()) {
      cli.output().line("deleted distribution " + name);
    }
    return ExitCodes.OK;
  }
}
