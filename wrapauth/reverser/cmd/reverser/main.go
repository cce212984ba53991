// Command reverser is the string reverser of the Access Control
// walk-through, a service protected by WRAP access tokens (package
// github.com/seskit/ses/wrapauth/reverser).
package main

import (
	"os"

	"github.com/seskit/ses/wrapauth/reverser"
)

func main() { os.Exit(reverser.Main(os.Args[1:], os.Stderr)) }
