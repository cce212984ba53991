// Package goconst reads a package's string constants of one type from its
// source files, for the tests that check a table (the README's reason
// codes, the OpenAPI document's enums) against the code: read from the
// files themselves, a constant added without its row cannot be forgotten.
package goconst

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
)

// Declared returns the values of the string constants of type typ declared
// in the Go files of dir (test files left out), in the order of the files'
// names and of the declarations. A constant of typ whose value is not a
// string literal is an error.
func Declared(dir, typ string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
				for _, val := range v.Values {
					lit, ok := val.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return nil, fmt.Errorf("%s: a %s that is not a string literal", fset.Position(val.Pos()), typ)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", fset.Position(val.Pos()), err)
					}
					out = append(out, s)
				}
			}
		}
	}
	return out, nil
}
