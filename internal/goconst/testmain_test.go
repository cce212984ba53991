package goconst

import (
	"testing"

	"github.com/seskit/ses/internal/testmain"
)

func TestMain(m *testing.M) {
	testmain.Start()
	m.Run()
}
