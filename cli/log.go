package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"
	"github.com/seskit/ses/tool"
)

// SetupLog builds g.Log from the logging flags. The returned function closes
// the log file, if any.
func (g *Globals) SetupLog() (func(), error) {
	level, err := ParseLevel(g.LogLevel)
	if err != nil {
		return nil, Usagef("--log-level: %v", err)
	}
	console := g.writer(g.Stderr)
	var out zerolog.LevelWriter = levelFilter{w: console, min: level}
	closer := func() {}
	if g.LogFile != "" {
		fileLevel := level
		if g.LogFileLevel != "" {
			if fileLevel, err = ParseLevel(g.LogFileLevel); err != nil {
				return nil, Usagef("--log-file-level: %v", err)
			}
		}
		f, err := OpenPrivate(g.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, PrivateMode)
		var link *SymlinkError
		switch {
		case errors.As(err, &link):
			return nil, Usagef("--log-file: %v", err).Hint("name the file the link points to, or another file")
		case err != nil:
			return nil, Usagef("--log-file: %v", err)
		}
		closer = func() { f.Close() }
		out = zerolog.MultiLevelWriter(out, levelFilter{w: g.writer(f), min: fileLevel})
		if fileLevel < level {
			level = fileLevel
		}
	} else if g.LogFileLevel != "" {
		return nil, Usagef("--log-file-level needs --log-file")
	}
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	g.Log = zerolog.New(out).Level(level).With().Timestamp().Logger()
	return closer, nil
}

// writer writes log events to w in the chosen format. What a terminal would
// act on never reaches it: in the console format the message and every
// value are escaped with tool.Printable (string values are quoted besides,
// as zerolog quotes them), in JSON with tool.PrintableJSON.
func (g *Globals) writer(w io.Writer) io.Writer {
	if g.LogFormat == "json" {
		return printableJSON{w}
	}
	text := func(i any) string {
		if i == nil {
			return ""
		}
		return tool.Printable(fmt.Sprintf("%s", i))
	}
	return zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: true,
		FormatMessage: text, FormatFieldValue: text, FormatErrFieldValue: text}
}

// printableJSON passes on JSON log events with tool.PrintableJSON applied.
type printableJSON struct{ w io.Writer }

func (p printableJSON) Write(b []byte) (int, error) {
	if _, err := p.w.Write(tool.PrintableJSON(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// levelFilter passes on only events at or above min, so the console and the
// log file can have levels of their own.
type levelFilter struct {
	w   io.Writer
	min zerolog.Level
}

func (f levelFilter) Write(p []byte) (int, error) { return f.w.Write(p) }

func (f levelFilter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	if l < f.min {
		return len(p), nil
	}
	return f.w.Write(p)
}
