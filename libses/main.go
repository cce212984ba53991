// Command libses is the entitlement check of `ses client` as a native
// library for C, C++ and any language with a C FFI. Built with
// -buildmode=c-archive it is libses.a, with -buildmode=c-shared libses.so
// (libses.dll on Windows); include/ses.h declares its C API and
// include/SoftwareEntitlementClient.h the reference SDK's C++ interface
// over it. The Makefile beside this file builds both.
//
// Without cgo the package is only this file and builds to a program that
// does nothing, so that `go build ./...` and `go test ./...` work on a
// machine with no C compiler.
package main

// main is never run: a c-archive or c-shared build needs a main package.
func main() {}
