package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla remote create|list|show|delete}: the upstream registries syncs copy from
 * ({@code /api/v1/remotes}).
 */
@Command(name = "remote", description = "Manage remotes: upstream registries to sync from.")
public final class RemoteCommands {
  @ParentCommand private FlotillaCli cli;
  @Spec private CommandSpec spec;

  /** The policies a remote may have. */
  public enum Policy { immediate, onDemand }

  @Command(name = "create", description = "Create a remote.")
  int create(
      @Parameters(paramLabel = "NAME") String name,
      @Option(names = "--url", required = true, description = "The upstream registry's URL.") String url,
      @Option(names = "--upstream-name", required = true, paramLabel = "NAME",
          description = "The repository's name upstream (library/alpine).") String upstreamName,
      @Option(names = "--username", description = "User name at the upstream.") String username,
      @Option(names = "--remote-password", paramLabel = "P", description = "Password at the upstream.") String remotePassword,
      @Option(names = "--password-stdin", description = "Read the upstream password from stdin.") boolean passwordStdin,
      @Option(names = "--include", paramLabel = "GLOB", description = "Tags to sync (repeatable; default all).") List<String> include,
      @Option(names = "--exclude", paramLabel = "GLOB", description = "Tags not to sync (repeatable).") List<String> exclude,
      @Option(names = "--policy", paramLabel = "immediate|onDemand", description = "immediate or onDemand.") Policy policy,
      @Option(names = "--sync-interval", paramLabel = "DURATION", converter = Durations.Converter.class,
          description = "Sync periodically: 30s, 10m, 1h...") Long syncInterval,
      @Option(names = "--insecure-upstream", description = "Do not verify the upstream's TLS certificate.") boolean insecureUpstream,
      @Option(names = "--ca-file", paramLabel = "PEM", description = "CA certificate(s) to trust for the upstream.") String caFile)
      throws Exception {
    CommandSpec here = spec.subcommands().get("create").getCommandSpec();
    if (passwordStdin && remotePassword != null) {
      throw cli.usage(here.commandLine(), "--remote-password and --password-stdin are exclusive");
    }
    String password = passwordStdin ? cli.stdin("--password-stdin") : remotePassword;
    ObjectNode body = cli.json().createObjectNode();
    body.put("name", name);
    body.put("url", url);
    body.put("upstreamName", upstreamName);
    putIf(body, "username", username);
    putIf(body, "password", password);
    body.put("verifyTls", !insecureUpstream);
    if (caFile != null) {
      body.put("caCertificate", cli.file("--ca-file", caFile));
    }
    strings(body.putArray("includeTags"), include);
    strings(body.putArray("excludeTags"), exclude);
    if (policy != null) {
      body.put("policy", policy.name());
    }
    if (syncInterval != null) {
      body.put("syncInterval", syncInterval.intValue());
    } else {
      body.putNull("syncInterval");
    }
    cli.output().show(cli.api().post(ApiClient.path("remotes"), body));
    return ExitCodes.OK;
  }

  @Command(name = "list", description = "List the remotes.")
  int list() throws Exception {
    JsonNode answer = cli.api().get(ApiClient.path("remotes"));
    Output out = cli.output();
    if (out.json()) {
      out.document(answer);
      return ExitCodes.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode r : answer.path("remotes")) {
      JsonNode interval = r.path("syncInterval");
      rows.add(List.of(r.path("name").asText(), r.path("url").asText(), r.path("upstreamName").asText(),
          r.path("policy").asText("-"), interval.isNumber() ? Durations.format(interval.asLong()) : "-",
          Output.text(r.path("includeTags")), Output.text(r.path("excludeTags"))));
    }
    out.table(List.of("NAME", "URL", "UPSTREAM", "POLICY", "INTERVAL", "INCLUDE", "EXCLUDE"), rows);
    return ExitCodes.OK;
  }

  @Command(name = "show", description = "Show a remote.")
  int show(@Parameters(paramLabel = "NAME") String name) throws Exception {
    cli.output().show(cli.api().get(ApiClient.path("remotes", name)));
    return ExitCodes.OK;
  }

  @Command(name = "delete", description = "Delete a remote.")
  int delete(@Parameters(paramLabel = "NAME") String name) throws Exception {
    cli.api().delete(ApiClient.path("remotes", name));
    if (!cli.output().json()) {
      cli.output().line("deleted remote " + name);
    }
    return ExitCodes.OK;
  }

  static void putIf(ObjectNode body, String field, String value) {
    if (value != null) {
      body.put(field, value);
    }
  }

  private static void strings(com.fasterxml.jackson.databind.node.ArrayNode array, List<String> values) {
    if (values != null) {
      values.forEach(array::add);
    }
  }
}
