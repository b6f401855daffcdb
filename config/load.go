package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
)

// Action tells the caller of Load what to do next.
type Action int

const (
	// Run means a Config was loaded and the server should start.
	Run Action = iota
	// PrintedHelp means --help was given and usage went to stdout; exit 0.
	PrintedHelp
	// PrintedVersion means --version was given and the version went to
	// stdout; exit 0.
	PrintedVersion
)

func (a Action) String() string {
	switch a {
	case Run:
		return "run"
	case PrintedHelp:
		return "printed help"
	case PrintedVersion:
		return "printed version"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Load builds the configuration from the command line. args excludes the
// program name (pass os.Args[1:]). Values are applied in increasing order
// of precedence: Default(), then the TOML file named by --config, then the
// parameter flags the user actually passed, so a flag always beats the
// file and an omitted flag never resets a file value.
//
// With --help or --version Load writes to stdout and returns a nil Config
// with PrintedHelp or PrintedVersion; the caller should exit 0. Otherwise
// it returns a Config that has passed Validate, or an error describing
// every problem found (joined). Non-fatal warnings go to stderr.
func Load(args []string, version string, stdout, stderr io.Writer) (*Config, Action, error) {
	return load(args, version, stdout, stderr, os.ReadFile)
}

// load is Load with the file reader injected, so the fuzz test can feed
// config files from memory instead of paying for a disk write per input.
func load(args []string, version string, stdout, stderr io.Writer, readFile func(string) ([]byte, error)) (*Config, Action, error) {
	flags := pflag.NewFlagSet("cachalot", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {} // help is printed by printUsage, on stdout, only for --help
	flags.SortFlags = false
	help := flags.BoolP("help", "h", false, "print this help and exit")
	showVersion := flags.Bool("version", false, "print the version and exit")
	configPath := flags.String("config", "", "TOML configuration file")
	for _, p := range paramTable {
		flags.Var(&paramFlag{param: p}, p.Name, p.Help)
	}

	if err := flags.Parse(args); err != nil {
		return nil, Run, fmt.Errorf("command line: %w", err)
	}
	if *help {
		printUsage(stdout)
		return nil, PrintedHelp, nil
	}
	if *showVersion {
		if version == "" {
			version = "(devel)"
		}
		fmt.Fprintf(stdout, "cachalot %s\n", version)
		return nil, PrintedVersion, nil
	}
	if flags.NArg() > 0 {
		return nil, Run, fmt.Errorf("command line: unexpected argument %q (give a configuration file with --config PATH)", flags.Arg(0))
	}

	cfg := Default()
	if flags.Changed("config") {
		if *configPath == "" {
			return nil, Run, errors.New("command line: --config needs a file path")
		}
		if err := loadFile(cfg, *configPath, readFile); err != nil {
			return nil, Run, err
		}
		cfg.File = *configPath
	}
	// Flags were checked while parsing; applying them cannot fail, but the
	// error is kept rather than assumed away.
	var errs []error
	flags.Visit(func(f *pflag.Flag) {
		if pf, ok := f.Value.(*paramFlag); ok {
			if err := pf.param.set(cfg, pf.raw); err != nil {
				errs = append(errs, fmt.Errorf("command line: --%s: %w", f.Name, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, Run, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, Run, fmt.Errorf("invalid configuration: %w", err)
	}
	if cfg.Save != "" {
		fmt.Fprintf(stderr, "cachalot: warning: save %q is ignored: cachalot does not take RDB snapshots\n", cfg.Save)
	}
	return cfg, Run, nil
}

// paramFlag is the pflag.Value behind every parameter flag. It validates
// through the parameter's own set (on a scratch Config) so bad flags fail
// during parsing with pflag's context, and keeps the raw text so Load can
// apply it after the file, through exactly the code path the file uses.
type paramFlag struct {
	param Param
	raw   string
}

func (f *paramFlag) String() string { return f.raw }

func (f *paramFlag) Set(value string) error {
	if err := f.param.set(Default(), value); err != nil {
		return err
	}
	f.raw = value
	return nil
}

func (f *paramFlag) Type() string { return f.param.metavar }

// loadFile applies the TOML file at path to cfg. Keys are parameter names
// (case-insensitive, like Redis). Every bad key is reported, not just the
// first, so one edit can fix a broken file.
func loadFile(cfg *Config, path string, readFile func(string) ([]byte, error)) error {
	data, err := readFile(path)
	if err != nil {
		return fmt.Errorf("reading config file: %w", err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var decodeErr *toml.DecodeError
		if errors.As(err, &decodeErr) {
			line, column := decodeErr.Position()
			return fmt.Errorf("%s:%d:%d: %w", path, line, column, err)
		}
		return fmt.Errorf("%s: %w", path, err)
	}

	var errs []error
	keyFor := make(map[string]string, len(doc)) // parameter name -> key that set it
	// Sorted so the joined errors come out in a stable order.
	for _, key := range slices.Sorted(maps.Keys(doc)) {
		p, ok := Lookup(key)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %w", path, &ParamError{Name: key, Reason: ErrUnknownParam.Error()}))
			continue
		}
		if earlier, dup := keyFor[p.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: keys %q and %q both set parameter %s", path, earlier, key, p.Name))
			continue
		}
		keyFor[p.Name] = key
		value, err := tomlValueText(p, doc[key])
		if err == nil {
			err = p.set(cfg, value)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, &ParamError{Name: key, Reason: err.Error()}))
		}
	}
	return errors.Join(errs...)
}

// tomlValueText converts a decoded TOML value into the Redis string form
// the parameter's set expects, refusing TOML types that make no sense for
// the parameter (a float port, a table for maxmemory ...).
func tomlValueText(p Param, v any) (string, error) {
	switch v := v.(type) {
	case string:
		if p.kind != kindInt {
			return v, nil
		}
	case int64:
		if p.kind == kindInt || p.kind == kindMemory {
			return fmt.Sprint(v), nil
		}
	case bool:
		if p.kind == kindBool || (p.kind == kindEnum && slices.Contains(p.enum, "yes") && slices.Contains(p.enum, "no")) {
			return formatYesNo(v), nil
		}
	case []any:
		if p.kind == kindList {
			return joinAddressArray(v)
		}
	}
	return "", fmt.Errorf("expected %s, got %s", tomlWant(p), tomlTypeName(v))
}

// joinAddressArray turns bind = ["a", "b"] into "a b". Elements must be
// single words, or joining and re-splitting would change their meaning.
func joinAddressArray(items []any) (string, error) {
	words := make([]string, 0, len(items))
	for _, item := range items {
		s, ok := item.(string)
		if !ok || s == "" || len(strings.Fields(s)) != 1 {
			return "", errors.New("array elements must be non-empty strings without spaces")
		}
		words = append(words, s)
	}
	return strings.Join(words, " "), nil
}

func tomlWant(p Param) string {
	switch p.kind {
	case kindInt:
		return "an integer"
	case kindBool:
		return `a boolean or "yes"/"no"`
	case kindMemory:
		return `an integer number of bytes or a size string such as "2gb"`
	case kindList:
		return "a string or an array of strings"
	case kindEnum:
		if slices.Contains(p.enum, "yes") && slices.Contains(p.enum, "no") {
			return `a boolean or one of "` + strings.Join(p.enum, `", "`) + `"`
		}
		return `one of "` + strings.Join(p.enum, `", "`) + `"`
	}
	return "a string"
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return "a date/time"
	}
	return fmt.Sprintf("a %T", v)
}

// printUsage writes --help output: every flag, its help and its default,
// generated from the parameter table so it cannot go stale.
func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`Usage: cachalot [--config PATH] [--PARAMETER VALUE]...

cachalot is a Redis-compatible cache daemon. Settings are applied in order:
built-in defaults, then the TOML file given by --config, then flags. Every
parameter is also a TOML key of the same name (see config.example.toml).
Sizes accept Redis units: k=1000, kb=1024, m, mb, g, gb.

Options:
  -h, --help
        print this help and exit
  --version
        print the version and exit
  --config PATH
        TOML configuration file

Parameters:
`)
	defaults := Default()
	for _, p := range paramTable {
		def := p.get(defaults)
		if def == "" || strings.ContainsAny(def, " \t") {
			def = fmt.Sprintf("%q", def)
		}
		fmt.Fprintf(&b, "  --%s %s\n        %s (default %s)\n", p.Name, p.metavar, p.Help, def)
	}
	io.WriteString(w, b.String())
}
