package cli

import (
	"strings"

	"github.com/alecthomas/kong"
)

// Vars puts each value of vars where the built model names it as ${name}:
// in a help, default, enum, env, placeholder or set tag, for Execute's
// options. kong would do the same for kong.Vars, but it interpolates every
// variable it has into every flag with a regular expression, which for a
// dozen variables is most of a command's start-up; kong still interpolates
// what is left (${default}, ${enum} and the variables Execute gives it).
func Vars(vars kong.Vars) kong.Option {
	pairs := make([]string, 0, 2*len(vars))
	for name, value := range vars {
		pairs = append(pairs, "${"+name+"}", strings.ReplaceAll(value, "$", "$$"))
	}
	r := strings.NewReplacer(pairs...)
	put := func(texts ...*string) {
		for _, s := range texts {
			if strings.Contains(*s, "${") {
				*s = r.Replace(*s)
			}
		}
	}
	set := func(t *kong.Tag) {
		if t == nil {
			return
		}
		for name, v := range t.Vars {
			put(&v)
			t.Vars[name] = v
		}
	}
	return kong.PostBuild(func(k *kong.Kong) error {
		return kong.Visit(k.Model.Node, func(n kong.Visitable, next kong.Next) error {
			switch n := n.(type) {
			case *kong.Node:
				put(&n.Help)
				set(n.Tag)
			case *kong.Value:
				put(&n.Default, &n.Enum, &n.Help)
				set(n.Tag)
				if n.Tag != nil {
					for i := range n.Tag.Envs {
						put(&n.Tag.Envs[i])
					}
				}
				if n.Flag != nil {
					put(&n.Flag.PlaceHolder)
				}
			}
			return next(nil)
		})
	})
}
