//go:build !unix

package tool

import "io/fs"

// permissionProblem reports nothing where folders have no Unix owner and
// mode (Windows: the folder's ACL decides, inherited from the user's
// profile).
func permissionProblem(fs.FileInfo, int) (StoreProblem, string) { return 0, "" }
