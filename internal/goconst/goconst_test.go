package goconst

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDeclared(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.go", "package p\n\ntype Color string\n\nconst (\n\tRed Color = \"red\"\n\tGreen Color = `green`\n\tOther = \"other\"\n)\n\nconst Blue Color = \"blue\"\n")
	write("b.go", "package p\n\nconst Cyan Color = \"cyan\"\n\nvar NotConst Color = \"no\"\n")
	write("b_test.go", "package p\n\nconst InTest Color = \"test\"\n")

	got, err := Declared(dir, "Color")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"red", "green", "blue", "cyan"}; !slices.Equal(got, want) {
		t.Errorf("Declared = %q, want %q", got, want)
	}

	write("c.go", "package p\n\nconst Computed Color = Color(\"x\" + \"y\")\n")
	if _, err := Declared(dir, "Color"); err == nil || !strings.Contains(err.Error(), "not a string literal") {
		t.Errorf("a computed constant: %v", err)
	}
}
