//go:build unix

package engine

import (
	"os"
	"syscall"
)

// fileOwner returns the user ID that owns the file info describes, or -1
// when it is unknown.
func fileOwner(info os.FileInfo) int {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
