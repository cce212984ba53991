package cli

import (
	"strings"
	"unicode"

	"github.com/alecthomas/kong"
)

// Dialect is implemented by the root of a reference tool's dialect (package
// compat). Execute reads its command line as the reference's parser did:
// flag names, command names and enum values in any case, several values
// after a list flag; it prints the usage after a usage error, starts the log
// at the reference's level, and keeps its messages to the flags the dialect
// has (see FlagNames).
type Dialect interface {
	// DefaultLogLevel is the log level when --log-level is not given.
	DefaultLogLevel() string
}

// argReader walks a command line over kong's command tree as kong will
// parse it, knowing at each point which flags and commands there are.
type argReader struct {
	node   *kong.Node
	fold   bool
	flags  map[string]*kong.Flag
	shorts map[rune]*kong.Flag
}

func (r *argReader) key(s string) string {
	if r.fold {
		return strings.ToLower(s)
	}
	return s
}

func (r *argReader) shortKey(c rune) rune {
	if r.fold {
		return unicode.ToLower(c)
	}
	return c
}

// enter makes node's flags known: a command's flags add to its parents',
// and those of its default subcommand (ses token's) come with it.
func (r *argReader) enter(node *kong.Node) {
	r.node = node
	r.addFlags(node)
	if node.DefaultCmd != nil {
		r.addFlags(node.DefaultCmd)
	}
}

func (r *argReader) addFlags(node *kong.Node) {
	for _, f := range node.Flags {
		for _, name := range append([]string{f.Name}, f.Aliases...) {
			r.flags[r.key(name)] = f
		}
		if f.Short != 0 {
			r.shorts[r.shortKey(f.Short)] = f
		}
	}
}

// child finds the command a positional word names, if any.
func (r *argReader) child(word string) *kong.Node {
	for _, c := range r.node.Children {
		if c.Type != kong.CommandNode {
			continue
		}
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			if r.key(name) == r.key(word) {
				return c
			}
		}
	}
	return nil
}

// passthrough reports whether the current command takes everything after
// its first argument as it is (ses client exec).
func (r *argReader) passthrough() bool {
	for _, p := range r.node.Positional {
		if p.PassthroughMode != kong.PassThroughModeNone {
			return true
		}
	}
	return false
}

// value writes a flag's value as kong knows it: an enum value in the case
// the enum has.
func (r *argReader) value(f *kong.Flag, v string) string {
	if !r.fold || f.Enum == "" {
		return v
	}
	for _, e := range f.EnumSlice() {
		if strings.EqualFold(e, v) {
			return e
		}
	}
	return v
}

// readArgs walks args from root. Without fold it returns them as they are;
// with fold (a Dialect) flag and command names and enum values are
// matched in any case and written as kong knows them, each value is joined
// to its flag (--name=value, so a value may start with "-"), and words after
// a list flag's value are more values of it, as the reference's parser took
// them. Both ways, a flag that needs a value and is given last without one
// is an error naming the flag (the arguments are returned all the same, for
// kong to find the command they are for).
func readArgs(root *kong.Node, args []string, fold bool) ([]string, error) {
	r := &argReader{fold: fold, flags: map[string]*kong.Flag{}, shorts: map[rune]*kong.Flag{}}
	r.enter(root)
	out := make([]string, 0, len(args))
	var list *kong.Flag // the list flag whose further values may follow
	for i := 0; i < len(args); i++ {
		a := args[i]
		var f *kong.Flag
		var value string
		hasValue := false
		switch {
		case a == "--":
			return append(out, args[i:]...), nil
		case strings.HasPrefix(a, "--"):
			var name string
			name, value, hasValue = strings.Cut(a[2:], "=")
			f = r.flags[r.key(name)]
		case len(a) >= 2 && a[0] == '-':
			f = r.shorts[r.shortKey(rune(a[1]))]
			if len(a) > 2 {
				// -fVALUE or a cluster of short flags: kong reads those.
				out = append(out, a)
				list = nil
				continue
			}
		default:
			if c := r.child(a); c != nil {
				r.enter(c)
				out = append(out, c.Name)
				list = nil
				continue
			}
			if list != nil {
				out = append(out, "--"+list.Name+"="+r.value(list, a))
				continue
			}
			if r.passthrough() {
				return append(out, args[i:]...), nil
			}
			out = append(out, a)
			continue
		}
		list = nil
		if f == nil {
			out = append(out, a) // kong reports the unknown flag
			continue
		}
		takesValue := !f.IsBool() && !f.IsCounter()
		if takesValue && !hasValue {
			if i+1 == len(args) {
				return append(out, a), missingValue(f)
			}
			i++
			value, hasValue = args[i], true
			if !fold {
				out = append(out, a, value)
				continue
			}
		}
		if !fold {
			out = append(out, a)
			continue
		}
		name := "--" + f.Name
		if hasValue {
			name += "=" + r.value(f, value)
		}
		out = append(out, name)
		if takesValue && f.IsSlice() {
			list = f
		}
	}
	return out, nil
}

// missingValue is the error for a flag given without the value it needs:
// it names the flag and what it takes.
func missingValue(f *kong.Flag) error {
	switch {
	case f.Enum != "":
		return Usagef("--%s needs a value: one of %s", f.Name, strings.Join(f.EnumSlice(), ", "))
	case f.PlaceHolder != "" || !f.HasDefault:
		return Usagef("--%s needs a value (%s)", f.Name, f.FormatPlaceHolder())
	}
	return Usagef("--%s needs a value", f.Name)
}
