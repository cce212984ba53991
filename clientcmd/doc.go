// Package clientcmd implements `ses client`: the entitlement check, leases
// and the WRAP token request on the command line, over the importable
// library in package client. It maps the library's errors to the exit
// codes of DESIGN §6 and adds the hints that name flags.
package clientcmd
