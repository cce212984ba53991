// Package cli holds what every ses command shares: the global options, the
// exit codes of DESIGN §6, and errors that carry an exit code and hints for a
// person.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
	"golang.org/x/term"
)

// Exit codes, the only place they are defined.
const (
	ExitOK          = 0 // success
	ExitNo          = 1 // a definite "no": invalid token, entitlement denied
	ExitUsage       = 2 // usage or configuration error
	ExitUntrusted   = 3 // the server is not trusted
	ExitUnreachable = 4 // the server could not be reached
	ExitProtocol    = 5 // the server answered something unexpected
)

// Error is an error meant for a person: it carries the exit code the process
// ends with and hints that say what to change.
type Error struct {
	Code  int
	Err   error
	Hints []string
	// Silent errors are not reported, only exited with.
	Silent bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is an error that ends the process with code and prints nothing,
// for passing on another program's exit status.
func ExitCode(code int) *Error {
	return &Error{Code: code, Silent: true, Err: fmt.Errorf("exit status %d", code)}
}

// Usagef returns an exit-2 error with the formatted message.
func Usagef(format string, args ...any) *Error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Hint returns e with another hint line added.
func (e *Error) Hint(format string, args ...any) *Error {
	e.Hints = append(e.Hints, fmt.Sprintf(format, args...))
	return e
}

// WithCode wraps err as an Error with the given exit code, keeping the hints
// of an Error inside it.
func WithCode(code int, err error) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return &Error{Code: code, Err: ce.Err, Hints: ce.Hints}
	}
	return &Error{Code: code, Err: err}
}

// CodeOf reports the exit code for err: 0 for nil, the code of an Error, and
// 2 (usage) for anything else a command returns.
func CodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ExitUsage
}

// PrintError writes err to w as "ses: error: ..." followed by its hints,
// each one line (several errors joined, errors.Join, each so): what a
// terminal would act on (outside data such as a server's certificate names
// or a token's claims may be in the message) is escaped with
// tool.Printable.
func PrintError(w io.Writer, prog string, err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			PrintError(w, prog, e)
		}
		return
	}
	var silent *Error
	if errors.As(err, &silent) && silent.Silent {
		return
	}
	fmt.Fprintf(w, "%s: error: %s\n", prog, tool.Printable(err.Error()))
	var ce *Error
	if errors.As(err, &ce) {
		for _, h := range ce.Hints {
			fmt.Fprintf(w, "%s: hint: %s\n", prog, tool.Printable(h))
		}
	}
}

// Globals are the flags every command accepts, and the process's
// surroundings, bound into each command's Run.
type Globals struct {
	LogLevel     string `help:"Log level: debug, info, warn, error (information and warning are accepted too; default: ${default_log_level=info for the server, warn otherwise})." placeholder:"LEVEL" predictor:"loglevel" group:"global"`
	LogFile      string `help:"Also write the log to this file." type:"path" placeholder:"FILE" group:"global"`
	LogFileLevel string `help:"Log level for --log-file (default: --log-level)." placeholder:"LEVEL" predictor:"loglevel" group:"global"`
	LogFormat    string `help:"Log format: console or json." enum:"console,json" default:"console" group:"global"`
	Store        string `help:"Certificate store directory (default: the user config dir's ses folder)." env:"SES_HOME" placeholder:"DIR" group:"global"`

	// Log is the logger built from the flags above.
	Log zerolog.Logger `kong:"-"`
	// Stdin, Stdout and Stderr are the process's streams.
	Stdin  io.Reader `kong:"-"`
	Stdout io.Writer `kong:"-"`
	Stderr io.Writer `kong:"-"`
	// Getenv reads the environment; Now tells the time.
	Getenv func(string) string `kong:"-"`
	Now    func() time.Time    `kong:"-"`
	// Version is the binary's version line, as --version prints it.
	Version string `kong:"-"`
	// Prog is the name errors and warnings are printed under: ses, or a
	// dialect's name.
	Prog string `kong:"-"`

	store *tool.Store
}

// StoreDir reports the store directory: --store, $SES_HOME, else the user
// configuration directory's "ses".
// An empty SES_HOME counts as unset, not as the current directory.
func (g *Globals) StoreDir() (string, error) {
	if dir := strings.TrimSpace(g.Store); dir != "" {
		return filepath.Abs(dir)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", &Error{Code: ExitUsage, Err: fmt.Errorf("no certificate store: %w", err),
			Hints: []string{"name one with --store DIR or SES_HOME"}}
	}
	return filepath.Join(dir, "ses"), nil
}

// OpenStore returns the certificate store, opened once per process.
func (g *Globals) OpenStore() (*tool.Store, error) {
	if g.store != nil {
		return g.store, nil
	}
	dir, err := g.StoreDir()
	if err != nil {
		return nil, err
	}
	g.store = &tool.Store{Dir: dir, Password: g.pfxPassword, Created: func(dev string) {
		fmt.Fprintf(g.Stderr, "%s: created the development PKI in %s; `ses certs trust` makes this machine trust its root, %s\n",
			g.prog(), dev, filepath.Join(dev, tool.DevRootFile))
	}}
	return g.store, nil
}

// prog is the name to print messages under: Prog, else ses.
func (g *Globals) prog() string {
	if g.Prog == "" {
		return "ses"
	}
	return g.Prog
}

// checkedStore is the store a command asks for: opened, and refused with
// hints when another user could change it.
func (g *Globals) checkedStore() (*tool.Store, error) {
	store, err := g.OpenStore()
	if err != nil {
		return nil, err
	}
	if err := store.Check(); err != nil {
		return nil, StoreError(err)
	}
	return store, nil
}

// pfxPassword supplies the password of a PKCS#12 file: $SES_PFX_PASSWORD, or
// a prompt when a terminal is attached.
func (g *Globals) pfxPassword(file string) ([]byte, error) {
	if p, ok := os.LookupEnv("SES_PFX_PASSWORD"); ok {
		return []byte(p), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		// The file is named by the error this one is wrapped in.
		return nil, fmt.Errorf("the PKCS#12 file is encrypted: set SES_PFX_PASSWORD to its password")
	}
	fmt.Fprintf(g.Stderr, "password for %s: ", file)
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(g.Stderr)
	return p, err
}

// LogLevels are the log levels' names, as --log-level takes them.
var LogLevels = []string{"debug", "info", "warn", "error"}

// ParseLevel reads a log level, accepting the reference tool's spellings
// "information" and "warning" in any case.
func ParseLevel(s string) (zerolog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug", "trace", "verbose":
		return zerolog.DebugLevel, nil
	case "info", "information":
		return zerolog.InfoLevel, nil
	case "warn", "warning":
		return zerolog.WarnLevel, nil
	case "error":
		return zerolog.ErrorLevel, nil
	}
	return zerolog.NoLevel, fmt.Errorf("unknown log level %q (want %s)", s, strings.Join(LogLevels, ", "))
}
