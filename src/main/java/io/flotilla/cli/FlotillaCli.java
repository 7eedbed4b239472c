package io.flotilla.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code flotilla [global options] <command>}: the command-line client of a node's admin API
 * ({@code /api/v1}). Holds the global options and builds, once per run, the {@link ApiClient},
 * {@link Output} and {@link TaskWatcher} the command groups use. Exit codes are {@link ExitCodes}.
 * Runs on the caller's thread.
 */
@Command(name = "flotilla", mixinStandardHelpOptions = true, version = "flotilla client 0.1.0",
    description = "Manage remotes, repository syncs, distributions and tasks of a Flotilla registry.",
    subcommands = {RemoteCommands.class, RepoCommands.class, DistributionCommands.class,
        PublicationCommands.class, TaskCommands.class, CommandLine.HelpCommand.class},
    footerHeading = "%nEnvironment:%n",
    footer = {"  FLOTILLA_URL       server URL (default http://127.0.0.1:5000)",
        "  FLOTILLA_USER      user name for HTTP Basic",
        "  FLOTILLA_PASSWORD  password for HTTP Basic",
        "  NO_COLOR           no colours when set",
        "",
        "Exit codes:",
        "  0  success (with --wait: the task completed)",
        "  1  the task failed",
        "  2  usage error",
        "  3  the server refused the request (4xx)",
        "  4  server error or server unreachable (5xx, connection refused, timeout)",
        "  5  the task was canceled"})
public final class FlotillaCli {
  /** The server used when neither {@code --server} nor {@code $FLOTILLA_URL} says. */
  public static final String DEFAULT_SERVER = "http://127.0.0.1:5000";

  /** The formats of {@code --output}. */
  public enum Format { text, json }

  @Spec private CommandSpec spec;

  @Option(names = "--server", paramLabel = "URL", description = "Server URL (default $FLOTILLA_URL or " + DEFAULT_SERVER + ").")
  private String server;

  @Option(names = "--user", description = "User name for HTTP Basic (default $FLOTILLA_USER).")
  private String user;

  @Option(names = "--password", description = "Password for HTTP Basic (default $FLOTILLA_PASSWORD).")
  private String password;

  @Option(names = "--password-stdin", description = "Read the password from stdin.")
  private boolean passwordStdin;

  @Option(names = "--insecure", description = "Do not verify the server's TLS certificate.")
  private boolean insecure;

  @Option(names = "--output", paramLabel = "text|json", defaultValue = "text",
      description = "text (default), or json: the server's JSON documents, for scripts.")
  private Format format;

  @Option(names = "--no-color", description = "No colours (also when $NO_COLOR is set).")
  private boolean noColor;

  private final CliEnv env;
  private final ObjectMapper json = new ObjectMapper();
  private ApiClient api;
  private Output output;
  private boolean stdinTaken;

  private FlotillaCli(CliEnv env) {
    this.env = env;
  }

  public static void main(String[] args) {
    System.exit(commandLine(CliEnv.system()).execute(args));
  }

  /** The command line, with its streams, usage-error and failure handling bound to {@code env}. */
  public static CommandLine commandLine(CliEnv env) {
    CommandLine cl = new CommandLine(new FlotillaCli(env));
    cl.setOut(env.out());
    cl.setErr(env.err());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    addHelp(cl);
    cl.setParameterExceptionHandler((ex, args) -> {
      env.err().println("error: " + ex.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, env.err());
      env.err().println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
      env.err().flush();
      return ExitCodes.USAGE;
    });
    cl.setExecutionExceptionHandler((ex, c, parsed) -> {
      env.err().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      env.err().flush();
      return ExitCodes.forException(ex);
    });
    return cl;
  }

  /** {@code -h/--help} on every subcommand (those declared as methods cannot have the mixin). */
  private static void addHelp(CommandLine cl) {
    CommandSpec s = cl.getCommandSpec();
    if (s.findOption("--help") == null) {
      s.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help and exit.").build());
    }
    cl.getSubcommands().values().forEach(FlotillaCli::addHelp);
  }

  /** The client of the server, built on first use from the global options and environment. */
  ApiClient api() throws IOException {
    if (api == null) {
      String url = server != null ? server : env.var("FLOTILLA_URL") != null ? env.var("FLOTILLA_URL") : DEFAULT_SERVER;
      URI base;
      try {
        base = URI.create(url);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--server: '" + url + "' is not a URL");
      }
      if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme()) || base.getHost() == null) {
        throw new ParameterException(spec.commandLine(), "--server: '" + url + "' is not an http(s) URL");
      }
      String u = user != null ? user : env.var("FLOTILLA_USER");
      String p = password != null ? password : env.var("FLOTILLA_PASSWORD");
      if (passwordStdin) {
        if (password != null) {
          throw new ParameterException(spec.commandLine(), "--password and --password-stdin are exclusive");
        }
        p = stdin("--password-stdin");
      }
      if (u == null && p != null) {
        throw new ParameterException(spec.commandLine(), "a password needs a user: give --user or $FLOTILLA_USER");
      }
      api = new ApiClient(base, u, p, insecure, json);
    }
    return api;
  }

  /** Where results and errors go. */
  Output output() {
    if (output == null) {
      boolean color = env.tty() && !noColor && env.var("NO_COLOR") == null;
      output = new Output(env.out(), env.err(), format == Format.json, env.tty(), color, env.width(), json);
    }
    return output;
  }

  /** Follows tasks for {@code --wait}. */
  TaskWatcher watcher() throws IOException {
    return new TaskWatcher(api(), output(), env.pollInterval());
  }

  /** The JSON mapper, for building request bodies. */
  ObjectMapper json() {
    return json;
  }

  /** Reads stdin for {@code option}; a second reading in one run is a usage error. */
  String stdin(String option) throws IOException {
    if (stdinTaken) {
      throw new ParameterException(spec.commandLine(), option + ": stdin was read already (by another --password-stdin)");
    }
    stdinTaken = true;
    return env.readStdin();
  }

  /** Reads a local file named on the command line; an unreadable one is a usage error. */
  String file(String option, String name) {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of(name));
    } catch (IOException | RuntimeException e) {
      throw new ParameterException(spec.commandLine(), option + ": cannot read " + name + " (" + e.getMessage() + ")");
    }
  }

  /** A usage error raised while running a command. */
  ParameterException usage(CommandLine where, String message) {
    return new ParameterException(where, message);
  }
}
